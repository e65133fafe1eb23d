-- Retention cohorts. Definitions in _marts__models.yml.
{%- set period = var('retention_period') %}
{%- set breakdowns = [('all', "'all'"), ('acquisition_channel', 'acquisition_channel')] %}

with customers as (
    select
        person_key,
        acquisition_channel,
        {{ dbt.date_trunc(period, 'first_purchase_at') }} as cohort_period
    from {{ ref('dim_people') }}
    where first_purchase_at is not null
),

{{ activity_by_period_ctes(period) }},

-- every period that has any data: the offsets each cohort is measured at
periods as (
    select distinct activity_period from activity where activity_kind = 'any_touchpoint'
),

-- each customer once per breakdown (all; acquisition channel): every count below groups by it
members as (
    {%- for name, expression in breakdowns %}
    select person_key, '{{ name }}' as breakdown, {{ expression }} as breakdown_value, cohort_period
    from customers
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- Counted from the members' activity, not from every member in every period: the cohorts' sizes,
-- each member's active periods from the cohort's on, and each member's first return and last
-- active offsets, each counted per cohort and offset and joined to the grid of cohorts x periods.
member_activity as (
    select
        activity.activity_kind,
        members.person_key,
        members.breakdown,
        members.breakdown_value,
        members.cohort_period,
        {{ dbt.datediff('members.cohort_period', 'activity.activity_period', period) }} as period_offset,
        coalesce(activity.revenue, 0) as revenue
    from members
    inner join activity
        on activity.person_key = members.person_key
        and activity.activity_period >= members.cohort_period
),

member_spans as (
    select
        activity_kind,
        breakdown,
        breakdown_value,
        cohort_period,
        min(case when period_offset > 0 then period_offset end) as first_return_offset,
        max(period_offset) as last_active_offset
    from member_activity
    group by activity_kind, person_key, breakdown, breakdown_value, cohort_period
),

cohorts as (
    select activity_kinds.activity_kind, members.breakdown, members.breakdown_value, members.cohort_period, count(*) as cohort_size
    from members
    cross join activity_kinds
    group by 1, 2, 3, 4
),

grid as (
    select
        cohorts.*,
        periods.activity_period,
        {{ dbt.datediff('cohorts.cohort_period', 'periods.activity_period', period) }} as period_offset
    from cohorts
    inner join periods on periods.activity_period >= cohorts.cohort_period
),

active as (
    select activity_kind, breakdown, breakdown_value, cohort_period, period_offset,
        count(*) as active_people, {{ exact_sum('revenue') }} as revenue
    from member_activity
    group by 1, 2, 3, 4, 5
),

first_returns as (
    select activity_kind, breakdown, breakdown_value, cohort_period, first_return_offset as period_offset, count(*) as people
    from member_spans
    where first_return_offset is not null
    group by 1, 2, 3, 4, 5
),

last_actives as (
    select activity_kind, breakdown, breakdown_value, cohort_period, last_active_offset, count(*) as people
    from member_spans
    group by 1, 2, 3, 4, 5
),

-- members active at this offset or a later one
unbounded as (
    select grid.activity_kind, grid.breakdown, grid.breakdown_value, grid.cohort_period, grid.period_offset,
        sum(last_actives.people) as people
    from grid
    inner join last_actives
        on grid.activity_kind = last_actives.activity_kind
        and grid.breakdown = last_actives.breakdown
        and grid.breakdown_value is not distinct from last_actives.breakdown_value
        and grid.cohort_period = last_actives.cohort_period
        and last_actives.last_active_offset >= grid.period_offset
    group by 1, 2, 3, 4, 5
),

aggregated as (
    select
        grid.activity_kind,
        grid.breakdown,
        grid.breakdown_value,
        grid.cohort_period,
        grid.period_offset,
        grid.activity_period,
        grid.cohort_size,
        cast(coalesce(active.active_people, 0) as {{ dbt.type_bigint() }}) as active_people,
        cast(case when grid.period_offset = 0 then grid.cohort_size else coalesce(first_returns.people, 0) end as {{ dbt.type_bigint() }}) as first_return_people,
        cast(coalesce(unbounded.people, 0) as {{ dbt.type_bigint() }}) as unbounded_people,
        coalesce(active.revenue, 0) as revenue
    from grid
    {%- for cte in ['active', 'first_returns', 'unbounded'] %}
    left join {{ cte }}
        on grid.activity_kind = {{ cte }}.activity_kind
        and grid.breakdown = {{ cte }}.breakdown
        and grid.breakdown_value is not distinct from {{ cte }}.breakdown_value
        and grid.cohort_period = {{ cte }}.cohort_period
        and grid.period_offset = {{ cte }}.period_offset
    {%- endfor %}
),

final as (
    select
        activity_kind,
        breakdown,
        breakdown_value,
        cohort_period,
        period_offset,
        activity_period,
        cohort_size,
        active_people,
        active_people * {{ double_literal('1.0') }} / cohort_size as retention_rate,
        first_return_people,
        first_return_people * {{ double_literal('1.0') }} / cohort_size as first_return_rate,
        unbounded_people,
        unbounded_people * {{ double_literal('1.0') }} / cohort_size as unbounded_retention_rate,
        revenue,
        sum(revenue) over (
            partition by activity_kind, breakdown, breakdown_value, cohort_period
            order by period_offset
            rows between unbounded preceding and current row
        ) * {{ double_literal('1.0') }} / cohort_size as cumulative_revenue_per_member
    from aggregated
)

select * from final
