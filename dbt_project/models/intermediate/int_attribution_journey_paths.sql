{{ config(
    materialized='incremental',
    unique_key='person_key',
    changed_keys='inc_changed_people',
) }}
-- depends_on: {{ ref('inc_changed_people') }}
-- One row per journey with its transformed path: the channels of its steps, ' > ' between them
-- (under the frequency transform each step is labelled with its number of touchpoints, e.g.
-- 'email(2) > paid_search(1)'), and the same channels as a list. mart_attribution_paths counts
-- these per period.
-- Incremental per person (inc_changed_people): a path is one journey's, a journey one person's.
{%- set transform_names = attribution_transforms() | map(attribute=0) | list %}

with paths as (
    select * from {{ ref('int_attribution_paths') }}
    {{ changed_keys_only() }}
),

steps as (
    select
        journey_id,
        any_value(person_key) as person_key,
        any_value(is_conversion) as is_conversion,
        any_value(journey_end_at) as journey_end_at,
        step_position,
        any_value(channel) as channel,
        count(*) as touches_in_step
    from paths
    group by journey_id, step_position
),

final as (
    select
        journey_id,
        any_value(person_key) as person_key,
        any_value(is_conversion) as is_conversion,
        any_value(journey_end_at) as journey_end_at,
        {{ list_ordered('channel', 'step_position') }} as path_channels,
        {{ string_agg_ordered(
            "channel || '(' || touches_in_step || ')'" if 'frequency' in transform_names else 'channel',
            "' > '", 'step_position') }} as path
    from steps
    group by journey_id
)

select * from final
