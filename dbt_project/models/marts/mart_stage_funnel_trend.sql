-- The funnel's rates per entry week, overall and by first-touch channel, so a change shows over time.
{{ funnel_rates('week', [
    ('all', "'all'"),
    ('channel', 'first_touch_channel'),
]) }}
