{{ config(
    materialized='incremental',
    unique_key='person_key',
    changed_keys='inc_changed_people',
) }}
-- depends_on: {{ ref('inc_changed_people') }}
-- The touchpoints each journey is made of, before path transforms. A journey is either
--  * a conversion (var attribution_conversion_types) with the same person's attributable
--    touchpoints (seed touchpoint_types.is_attributable) strictly before it and at most
--    var attribution_lookback_days before it (optionally only the last var attribution_max_touchpoints), or
--  * a person's open journey: their attributable touchpoints after their last conversion (all of
--    them if they never converted), within the lookback before the latest of them. It has not
--    converted (yet): the Markov model needs these non-converting paths.
-- A touchpoint may belong to several conversions' journeys. Ties in time are ordered by touchpoint_id.
-- Incremental per person (inc_changed_people): a journey is one person's touchpoints and conversions.
{%- set lookback = var('attribution_lookback_days') %}
{%- set max_touchpoints = var('attribution_max_touchpoints') %}
{%- if max_touchpoints is not none and (max_touchpoints is not number or max_touchpoints < 1) %}
    {{ exceptions.raise_compiler_error("var attribution_max_touchpoints: a whole number >= 1, or null for no limit") }}
{%- endif %}
with touchpoints as (
    select * from {{ ref('int_touchpoints_staged') }}
    {{ changed_keys_only() }}
),

touchpoint_types as (
    select * from {{ ref('touchpoint_types') }}
),

conversions as (
    select * from {{ ref('int_attribution_conversions') }}
    {{ changed_keys_only() }}
),

attributable as (
    select
        touchpoints.touchpoint_id,
        touchpoints.person_key,
        touchpoints.occurred_at,
        touchpoints.channel,
        touchpoints.campaign_id,
        touchpoints.campaign_name
    from touchpoints
    inner join touchpoint_types on touchpoints.touchpoint_type = touchpoint_types.touchpoint_type
    where touchpoint_types.is_attributable
),

converting as (
    select
        conversions.conversion_id as journey_id,
        true as is_conversion,
        conversions.person_key,
        conversions.converted_at as journey_end_at,
        attributable.touchpoint_id,
        attributable.occurred_at,
        attributable.channel,
        attributable.campaign_id,
        attributable.campaign_name
    from conversions
    inner join attributable
        on attributable.person_key = conversions.person_key
        and attributable.occurred_at < conversions.converted_at
        and attributable.occurred_at >= conversions.converted_at - {{ interval_days(lookback) }}
),

last_conversions as (
    select person_key, max(converted_at) as last_converted_at
    from conversions
    group by person_key
),

after_last_conversion as (
    select
        attributable.*,
        max(attributable.occurred_at) over (partition by attributable.person_key) as last_touch_at
    from attributable
    left join last_conversions on attributable.person_key = last_conversions.person_key
    where (last_conversions.last_converted_at is null
        or attributable.occurred_at >= last_conversions.last_converted_at)
        -- a conversion of an attributable type (e.g. a lead) is not part of a journey after it
        and not exists (select 1 from conversions where conversions.conversion_id = attributable.touchpoint_id)
),

open_journeys as (
    select
        'open:' || person_key as journey_id,
        false as is_conversion,
        person_key,
        last_touch_at as journey_end_at,
        touchpoint_id,
        occurred_at,
        channel,
        campaign_id,
        campaign_name
    from after_last_conversion
    where occurred_at >= last_touch_at - {{ interval_days(lookback) }}
),

journeys as (
    select * from converting
    union all
    select * from open_journeys
),

numbered as (
    select
        *,
        row_number() over (partition by journey_id order by occurred_at, touchpoint_id) as touch_order,
        count(*) over (partition by journey_id) as touches_in_journey
    from journeys
),

kept as (
    select * from numbered
    {%- if max_touchpoints is not none %}
    where touch_order > touches_in_journey - {{ max_touchpoints }}
    {%- endif %}
),

final as (
    select
        journey_id,
        is_conversion,
        person_key,
        journey_end_at,
        touchpoint_id,
        occurred_at,
        channel,
        campaign_id,
        campaign_name,
        row_number() over (partition by journey_id order by occurred_at, touchpoint_id) as touch_position
    from kept
)

select * from final
