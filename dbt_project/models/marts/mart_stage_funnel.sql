-- Ordered journey funnel per entry period and breakdown. Definitions in _marts__models.yml;
-- who reached which stage when is int_funnel_person_stages.
{{ funnel_rates(var('funnel_period'), [
    ('all', "'all'"),
    ('channel', 'first_touch_channel'),
    ('campaign', "coalesce(first_touch_campaign, '(none)')"),
    ('need', "coalesce(first_touch_need, '(none)')"),
]) }}
