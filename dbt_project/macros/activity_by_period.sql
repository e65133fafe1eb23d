{#- CTEs shared by the period marts: the two activity kinds, and each person's activity per
    period (`activity_period`) with purchase revenue in the reporting currency, from
    int_people_periods at the mart's period grain. -#}
{% macro activity_by_period_ctes(period) %}
activity_kinds as (
    select 'purchase' as activity_kind
    union all
    select 'any_touchpoint' as activity_kind
),

activity as (
    select activity_kind, person_key, activity_period, revenue, previous_active_period, next_active_period
    from {{ ref('int_people_periods') }}
    where period_grain = '{{ period }}'
)
{% endmacro %}
