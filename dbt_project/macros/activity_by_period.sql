{#- CTEs shared by the period marts: the two activity kinds, and each person's activity per
    period (`activity_period`) with purchase revenue in the reporting currency. Expects a
    `touchpoints` CTE with person_key, occurred_at, touchpoint_type, revenue_reporting. -#}
{% macro activity_by_period_ctes(period) %}
activity_kinds as (
    select 'purchase' as activity_kind
    union all
    select 'any_touchpoint' as activity_kind
),

activity as (
    select
        activity_kinds.activity_kind,
        touchpoints.person_key,
        {{ dbt.date_trunc(period, 'touchpoints.occurred_at') }} as activity_period,
        {{ exact_sum("case when touchpoints.touchpoint_type = 'purchase' then touchpoints.revenue_reporting end") }} as revenue
    from touchpoints
    cross join activity_kinds
    where activity_kinds.activity_kind = 'any_touchpoint' or touchpoints.touchpoint_type = 'purchase'
    group by 1, 2, 3
)
{% endmacro %}
