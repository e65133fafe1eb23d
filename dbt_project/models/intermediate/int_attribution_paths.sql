{{ config(
    materialized='incremental',
    unique_key='person_key',
    changed_keys='inc_changed_people',
) }}
-- depends_on: {{ ref('inc_changed_people') }}
-- Journeys after the path transforms (var attribution_path_transforms): one row per touchpoint
-- still in a journey's path, with the step it belongs to. Under exposure and frequency one step
-- is a run of consecutive touchpoints of one channel; otherwise a step is one touchpoint.
-- Incremental per person (inc_changed_people): every transform works within one journey.
{%- set transforms = attribution_transforms() %}
-- read three times: in a full build read from the table each time, not copied first (macros/dialect.sql: inlined)
with journeys as {{ materialized() if is_incremental() else inlined() }} (
    select * from {{ ref('int_attribution_journeys') }}
    {{ changed_keys_only() }}
),

step_0 as (
    select journey_id, touchpoint_id, channel, touch_position as step_position
    from journeys
),
{%- for name, argument in transforms %}

step_{{ loop.index }} as (
    {{ attribution_transform(name, argument, 'step_' ~ (loop.index - 1)) }}
),
{%- endfor %}

transformed as (
    select * from step_{{ transforms | length }}
),

steps as (
    select
        journey_id,
        step_position,
        count(*) as touches_in_step,
        min(occurred_at) as step_at
    from transformed
    inner join journeys using (journey_id, touchpoint_id)
    group by journey_id, step_position
),

-- an aggregate over the steps, not a window over every touchpoint of every journey
step_counts as (
    select journey_id, max(step_position) as step_count
    from steps
    group by journey_id
),

final as (
    select
        journeys.journey_id,
        journeys.is_conversion,
        journeys.person_key,
        journeys.journey_end_at,
        journeys.touchpoint_id,
        journeys.occurred_at,
        journeys.channel,
        journeys.campaign_id,
        journeys.campaign_name,
        transformed.step_position,
        step_counts.step_count,
        steps.touches_in_step,
        steps.step_at
    from transformed
    inner join journeys
        on transformed.journey_id = journeys.journey_id
        and transformed.touchpoint_id = journeys.touchpoint_id
    inner join steps
        on transformed.journey_id = steps.journey_id
        and transformed.step_position = steps.step_position
    inner join step_counts on transformed.journey_id = step_counts.journey_id
)

select * from final
