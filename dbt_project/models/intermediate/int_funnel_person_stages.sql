-- Each person x journey stage: when the person reached the stage within the conversion window.
-- A person enters at their first touchpoint (entry = awareness); reaching a later stage counts as
-- reaching every earlier one; a stage counts only if reached within funnel_conversion_window_days.
-- Incremental: only the people of inc_changed_people (a person's rows depend on their own
-- touchpoints alone).
{{ config(
    materialized='incremental',
    unique_key='person_key',
    changed_keys='inc_changed_people',
) }}
-- depends_on: {{ ref('inc_changed_people') }}
{%- set window_days = var('funnel_conversion_window_days') %}

with touchpoints as (
    select person_key, occurred_at, funnel_stage_order from {{ ref('int_touchpoints_staged') }}
    {{ changed_keys_only() }}
),

-- read twice: in a full build read from the table each time, not copied first (macros/dialect.sql: inlined)
people as {{ materialized() if is_incremental() else inlined() }} (
    select
        person_key,
        first_touch_at as entry_at,
        first_touch_channel,
        first_touch_campaign,
        first_touch_need
    from {{ ref('int_people_activity') }}
    {{ changed_keys_only() }}
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

-- a stage is reached when it or any later stage was: an aggregate over the few stages at or below
-- each reached one (a hash aggregate, which spills), not a window over every person x stage
stage_reached as (
    select
        stage_firsts.person_key,
        stages.stage_order,
        min(stage_firsts.first_at) as reached_at
    from stage_firsts
    inner join stages on stage_firsts.stage_order >= stages.stage_order
    group by stage_firsts.person_key, stages.stage_order
),

reached as (
    select
        people.*,
        stages.journey_stage,
        stages.stage_order,
        stage_reached.reached_at
    from people
    cross join stages
    left join stage_reached
        on people.person_key = stage_reached.person_key
        and stages.stage_order = stage_reached.stage_order
),

final as (
    select
        *,
        case
            when reached_at is not null then {{ dbt.datediff('entry_at', 'reached_at', 'second') }} / {{ double_literal('3600.0') }}
        end as hours_from_entry
    from reached
)

select * from final
