{{ config(
    materialized='incremental',
    unique_key='person_key',
    changed_keys='inc_changed_people',
) }}
-- depends_on: {{ ref('inc_changed_people') }}
-- Conversions: touchpoints of the types in var attribution_conversion_types (default: purchases),
-- each marked first or repeat (the person's first conversion of that type is 'first'), with its
-- value in the reporting currency (0 when the type carries no revenue).
-- Incremental per person (inc_changed_people): a person's conversions depend on their own touchpoints.
with touchpoints as (
    select * from {{ ref('int_touchpoints_staged') }}
    {{ changed_keys_only() }}
),

numbered as (
    select
        touchpoint_id as conversion_id,
        person_key,
        occurred_at as converted_at,
        touchpoint_type as conversion_type,
        row_number() over (
            partition by person_key, touchpoint_type order by occurred_at, touchpoint_id
        ) as conversion_number,
        coalesce(revenue_reporting, 0) as revenue_reporting
    from touchpoints
    where touchpoint_type in (
        {%- for conversion_type in var('attribution_conversion_types') %}
        '{{ conversion_type }}'{% if not loop.last %},{% endif %}
        {%- endfor %}
    )
),

final as (
    select
        conversion_id,
        person_key,
        converted_at,
        {{ dbt.date_trunc(var('attribution_period'), 'converted_at') }} as conversion_period,
        conversion_type,
        case when conversion_number = 1 then 'first' else 'repeat' end as conversion_kind,
        revenue_reporting
    from numbered
)

select * from final
