-- Referral attribution per referrer and period (var referral_period). Definitions in
-- _referral__models.yml. Invites and rewards are the advocate's own touchpoints; sign-ups,
-- customers and revenue come from the people the advocate referred (mart_referral_chains).
{%- set period = var('referral_period') %}

with touchpoints as (
    select person_key, occurred_at, touchpoint_type, revenue_reporting
    from {{ ref('int_touchpoints_staged') }}
),

referrals as (
    select * from {{ ref('mart_referral_chains') }}
),

advocate_events as (
    select
        person_key as referrer_person_key,
        {{ dbt.date_trunc(period, 'occurred_at') }} as period_start,
        count(case when touchpoint_type = 'referral_invite' then 1 end) as invites_sent,
        count(case when touchpoint_type = 'referral_reward' then 1 end) as rewards_issued
    from touchpoints
    where touchpoint_type in ('referral_invite', 'referral_reward')
    group by 1, 2
),

-- sign-ups count in the period of the referral; the cohort's purchasers are those of them who
-- made a first purchase after being referred, whenever (up to this build)
signups as (
    select
        referrer_person_key,
        {{ dbt.date_trunc(period, 'referred_at') }} as period_start,
        count(*) as referred_signups,
        count(first_purchase_after_referral_at) as signup_cohort_purchasers
    from referrals
    group by 1, 2
),

-- a referred customer counts in the period of their first purchase (made after the referral)
customers as (
    select
        referrer_person_key,
        {{ dbt.date_trunc(period, 'first_purchase_after_referral_at') }} as period_start,
        count(*) as referred_customers
    from referrals
    where first_purchase_after_referral_at is not null
    group by 1, 2
),

-- every purchase (first and repeat) a referred person made on or after being referred
revenue as (
    select
        referrals.referrer_person_key,
        {{ dbt.date_trunc(period, 'touchpoints.occurred_at') }} as period_start,
        {{ exact_sum('touchpoints.revenue_reporting') }} as referred_revenue
    from referrals
    inner join touchpoints
        on referrals.person_key = touchpoints.person_key
        and touchpoints.touchpoint_type = 'purchase'
        and touchpoints.occurred_at >= referrals.referred_at
    group by 1, 2
),

-- every referrer x period with any of the above
referrer_periods as (
    select referrer_person_key, period_start from advocate_events
    union
    select referrer_person_key, period_start from signups
    union
    select referrer_person_key, period_start from customers
    union
    select referrer_person_key, period_start from revenue
),

counts as (
    select
        referrer_periods.referrer_person_key,
        referrer_periods.period_start,
        coalesce(advocate_events.invites_sent, 0) as invites_sent,
        coalesce(signups.referred_signups, 0) as referred_signups,
        coalesce(signups.signup_cohort_purchasers, 0) as signup_cohort_purchasers,
        coalesce(customers.referred_customers, 0) as referred_customers,
        coalesce(revenue.referred_revenue, 0) as referred_revenue,
        coalesce(advocate_events.rewards_issued, 0) as rewards_issued
    from referrer_periods
    left join advocate_events
        on referrer_periods.referrer_person_key = advocate_events.referrer_person_key
        and referrer_periods.period_start = advocate_events.period_start
    left join signups
        on referrer_periods.referrer_person_key = signups.referrer_person_key
        and referrer_periods.period_start = signups.period_start
    left join customers
        on referrer_periods.referrer_person_key = customers.referrer_person_key
        and referrer_periods.period_start = customers.period_start
    left join revenue
        on referrer_periods.referrer_person_key = revenue.referrer_person_key
        and referrer_periods.period_start = revenue.period_start
),

final as (
    select
        referrer_person_key,
        period_start,
        invites_sent,
        referred_signups,
        -- no invites, no rate (null, not infinity)
        case when invites_sent > 0 then referred_signups * {{ double_literal('1.0') }} / invites_sent end as invite_to_signup_rate,
        signup_cohort_purchasers,
        case
            when referred_signups > 0 then signup_cohort_purchasers * {{ double_literal('1.0') }} / referred_signups
        end as signup_cohort_purchase_rate,
        referred_customers,
        referred_revenue,
        rewards_issued,
        -- the export carries no reward amount: a flat var('referral_reward_amount') per reward
        rewards_issued * cast({{ var('referral_reward_amount') }} as double) as reward_cost,
        referred_revenue - rewards_issued * cast({{ var('referral_reward_amount') }} as double) as net_value
    from counts
)

select * from final
