-- Lifecycle dynamics and states per period. Definitions in _marts__models.yml.
{%- set period = var('lifecycle_period') %}

with touchpoints as {{ inlined() }} (
    select person_key, occurred_at, touchpoint_type, revenue_reporting, score, score_scale, referrer_person_key
    from {{ ref('int_touchpoints_staged') }}
),

periods as (
    select distinct
        {{ dbt.date_trunc(period, 'occurred_at') }} as period_start,
        {{ dbt.dateadd(period, 1, dbt.date_trunc(period, 'occurred_at')) }} as period_end
    from touchpoints
),

{{ activity_by_period_ctes(period) }},

first_active as (
    select activity_kind, person_key, min(activity_period) as first_period
    from activity
    group by activity_kind, person_key
),

person_periods as (
    select
        first_active.activity_kind,
        first_active.person_key,
        first_active.first_period,
        periods.period_start,
        case when activity.person_key is not null then 1 else 0 end as is_active
    from first_active
    inner join periods on periods.period_start >= first_active.first_period
    left join activity
        on activity.activity_kind = first_active.activity_kind
        and activity.person_key = first_active.person_key
        and activity.activity_period = periods.period_start
),

with_previous as (
    select
        *,
        lag(is_active) over (partition by activity_kind, person_key order by period_start) as was_active
    from person_periods
),

dynamics as (
    select
        period_start,
        'activity_' || activity_kind as measure,
        case
            when is_active = 1 and period_start = first_period then 'new'
            when is_active = 1 and was_active = 1 then 'returning'
            when is_active = 1 then 'resurrecting'
            when was_active = 1 then 'dormant'
        end as status,
        person_key
    from with_previous
),

people as (
    select
        person_key,
        min(occurred_at) as first_at,
        min(case when touchpoint_type = 'lead_created' then occurred_at end) as first_lead_at,
        min(case when touchpoint_type = 'purchase' then occurred_at end) as first_purchase_at
    from touchpoints
    group by person_key
),

first_referrals as (
    select referrer_person_key as person_key, min(occurred_at) as first_referred_at
    from touchpoints
    where touchpoint_type = 'referral_signup' and referrer_person_key is not null
    group by referrer_person_key
),

nps_as_of as (
    select person_key, period_start, score as latest_nps
    from (
        select
            touchpoints.person_key,
            periods.period_start,
            touchpoints.score,
            row_number() over (
                partition by touchpoints.person_key, periods.period_start
                order by touchpoints.occurred_at desc
            ) as answer_rank
        from touchpoints
        inner join periods on touchpoints.occurred_at < periods.period_end
        where touchpoints.touchpoint_type = 'survey_response' and touchpoints.score_scale = 'nps_0_10'
    ) as answers
    where answer_rank = 1
),

states as (
    select
        periods.period_start,
        'lifecycle_state' as measure,
        {{ lifecycle_state(
            has_appeared='people.first_at < periods.period_end',
            is_lead='people.first_lead_at < periods.period_end',
            is_customer='people.first_purchase_at < periods.period_end',
            has_referred='first_referrals.first_referred_at < periods.period_end',
            latest_nps='nps_as_of.latest_nps',
        ) }} as status,
        people.person_key
    from people
    cross join periods
    left join first_referrals on people.person_key = first_referrals.person_key
    left join nps_as_of
        on people.person_key = nps_as_of.person_key
        and periods.period_start = nps_as_of.period_start
),

final as (
    select period_start, measure, status, count(*) as people
    from (
        select * from dynamics where status is not null
        union all
        select * from states
    ) as all_statuses
    group by period_start, measure, status
)

select * from final
