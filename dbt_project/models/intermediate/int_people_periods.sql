{{ config(
    materialized='incremental',
    unique_key='person_key',
    changed_keys='inc_changed_people',
) }}
-- depends_on: {{ ref('inc_changed_people') }}
-- One row per person, activity kind and period in which the person was active: 'any_touchpoint'
-- (any touchpoint) or 'purchase' (a purchase), with the period's purchase revenue in the reporting
-- currency and the person's previous and next period of that kind (null if none). For each period
-- grain the period marts use (vars lifecycle_period, retention_period, referral_period: column
-- period_grain), so that they read people's periods, not every touchpoint.
-- Incremental: only the people of inc_changed_people (a person's rows depend on their own
-- touchpoints alone).
{%- set grains = [var('lifecycle_period'), var('retention_period'), var('referral_period')] | unique | list %}

with touchpoints as {{ inlined() }} (
    select person_key, occurred_at, touchpoint_type, revenue_reporting
    from {{ ref('int_touchpoints_staged') }}
    {{ changed_keys_only() }}
),

activity_kinds as (
    select 'purchase' as activity_kind
    union all
    select 'any_touchpoint' as activity_kind
),

{%- for grain in grains %}

activity_by_{{ grain }} as (
    select
        '{{ grain }}' as period_grain,
        activity_kinds.activity_kind,
        touchpoints.person_key,
        {{ dbt.date_trunc(grain, 'touchpoints.occurred_at') }} as activity_period,
        {{ exact_sum("case when touchpoints.touchpoint_type = 'purchase' then touchpoints.revenue_reporting end") }} as revenue
    from touchpoints
    cross join activity_kinds
    where activity_kinds.activity_kind = 'any_touchpoint' or touchpoints.touchpoint_type = 'purchase'
    group by 1, 2, 3, 4
),
{%- endfor %}

periods as (
    {%- for grain in grains %}
    select * from activity_by_{{ grain }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- the person's previous and next active period of the same grain and kind (mart_lifecycle's
-- new / returning / resurrecting / dormant): a window over the person's own rows, so kept here
-- per person rather than computed over everyone's periods in every build (at 100 M touchpoints
-- that window was 23 s of mart_lifecycle's 37 s)
final as (
    select
        *,
        lag(activity_period) over (
            partition by period_grain, activity_kind, person_key order by activity_period
        ) as previous_active_period,
        lead(activity_period) over (
            partition by period_grain, activity_kind, person_key order by activity_period
        ) as next_active_period
    from periods
)

select * from final
