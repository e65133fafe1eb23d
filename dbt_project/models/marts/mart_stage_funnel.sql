-- Ordered journey funnel per entry period and breakdown. Definitions in _marts__models.yml.
{%- set window_days = var('funnel_conversion_window_days') %}
{%- set period = var('funnel_period') %}
{%- set breakdowns = [
    ('all', "'all'"),
    ('channel', 'first_touch_channel'),
    ('campaign', "coalesce(first_touch_campaign, '(none)')"),
    ('need', "coalesce(first_touch_need, '(none)')"),
] %}

with touchpoints as (
    select person_key, occurred_at, funnel_stage_order from {{ ref('int_touchpoints_staged') }}
),

people as (
    select
        person_key,
        first_touch_at as entry_at,
        first_touch_channel,
        first_touch_campaign,
        first_touch_need
    from {{ ref('dim_people') }}
),

stages as (
    select * from {{ ref('journey_stages') }}
),

-- earliest touch per person and stage, inside the conversion window
stage_firsts as (
    select
        touchpoints.person_key,
        touchpoints.funnel_stage_order as stage_order,
        min(touchpoints.occurred_at) as first_at
    from touchpoints
    inner join people on touchpoints.person_key = people.person_key
    where touchpoints.occurred_at <= {{ dbt.dateadd('day', window_days, 'people.entry_at') }}
    group by touchpoints.person_key, touchpoints.funnel_stage_order
),

-- reaching a later stage counts as reaching every earlier one
reached as (
    select
        people.*,
        stages.journey_stage,
        stages.stage_order,
        min(stage_firsts.first_at) over (
            partition by people.person_key
            order by stages.stage_order desc
            rows between unbounded preceding and current row
        ) as reached_at
    from people
    cross join stages
    left join stage_firsts
        on people.person_key = stage_firsts.person_key
        and stages.stage_order = stage_firsts.stage_order
),

broken_down as (
    {%- for name, expression in breakdowns %}
    select
        {{ dbt.date_trunc(period, 'entry_at') }} as entry_period,
        '{{ name }}' as breakdown,
        {{ expression }} as breakdown_value,
        journey_stage,
        stage_order,
        person_key,
        case
            when reached_at is not null
                then {{ dbt.datediff('entry_at', 'reached_at', 'second') }} / 3600.0
        end as hours_from_entry
    from reached
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

aggregated as (
    select
        entry_period,
        breakdown,
        breakdown_value,
        journey_stage,
        stage_order,
        count(*) as people_entered,
        count(hours_from_entry) as people_reached,
        {{ median('hours_from_entry') }} as median_hours_from_entry,
        avg(hours_from_entry) as mean_hours_from_entry
    from broken_down
    group by entry_period, breakdown, breakdown_value, journey_stage, stage_order
),

with_previous as (
    select
        aggregated.*,
        coalesce(
            lag(people_reached) over (
                partition by entry_period, breakdown, breakdown_value order by stage_order
            ),
            people_entered
        ) as people_at_previous_stage
    from aggregated
),

final as (
    select
        entry_period,
        breakdown,
        breakdown_value,
        journey_stage,
        stage_order,
        people_entered,
        people_reached,
        people_at_previous_stage - people_reached as drop_off,
        case
            when people_at_previous_stage > 0 then people_reached * 1.0 / people_at_previous_stage
        end as conversion_from_previous,
        people_reached * 1.0 / people_entered as conversion_from_entry,
        median_hours_from_entry,
        mean_hours_from_entry
    from with_previous
)

select * from final
