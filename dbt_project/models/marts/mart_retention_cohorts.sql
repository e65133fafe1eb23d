-- Retention cohorts. Definitions in _marts__models.yml.
{%- set period = var('retention_period') %}
{%- set breakdowns = [('all', "'all'"), ('acquisition_channel', 'acquisition_channel')] %}

with touchpoints as {{ inlined() }} (
    select person_key, occurred_at, touchpoint_type, revenue_reporting
    from {{ ref('int_touchpoints_staged') }}
),

customers as (
    select
        person_key,
        acquisition_channel,
        {{ dbt.date_trunc(period, 'first_purchase_at') }} as cohort_period
    from {{ ref('dim_people') }}
    where first_purchase_at is not null
),

-- every period that has any data: the offsets each cohort is measured at
periods as (
    select distinct {{ dbt.date_trunc(period, 'occurred_at') }} as activity_period
    from touchpoints
),

{{ activity_by_period_ctes(period) }},

member_periods as (
    select
        activity_kinds.activity_kind,
        customers.person_key,
        customers.acquisition_channel,
        customers.cohort_period,
        periods.activity_period,
        {{ dbt.datediff('customers.cohort_period', 'periods.activity_period', period) }} as period_offset,
        case when activity.person_key is not null then 1 else 0 end as is_active,
        coalesce(activity.revenue, 0) as revenue
    from customers
    cross join activity_kinds
    inner join periods on periods.activity_period >= customers.cohort_period
    left join activity
        on activity.activity_kind = activity_kinds.activity_kind
        and activity.person_key = customers.person_key
        and activity.activity_period = periods.activity_period
),

member_flags as (
    select
        *,
        min(case when is_active = 1 and period_offset > 0 then period_offset end)
            over (partition by activity_kind, person_key) as first_return_offset,
        max(case when is_active = 1 then period_offset end)
            over (partition by activity_kind, person_key) as last_active_offset
    from member_periods
),

broken_down as (
    {%- for name, expression in breakdowns %}
    select '{{ name }}' as breakdown, {{ expression }} as breakdown_value, member_flags.*
    from member_flags
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

aggregated as (
    select
        activity_kind,
        breakdown,
        breakdown_value,
        cohort_period,
        period_offset,
        activity_period,
        count(*) as cohort_size,
        sum(is_active) as active_people,
        sum(case when period_offset = 0 or first_return_offset = period_offset then 1 else 0 end) as first_return_people,
        sum(case when last_active_offset >= period_offset then 1 else 0 end) as unbounded_people,
        {{ exact_sum('revenue') }} as revenue
    from broken_down
    group by activity_kind, breakdown, breakdown_value, cohort_period, period_offset, activity_period
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
