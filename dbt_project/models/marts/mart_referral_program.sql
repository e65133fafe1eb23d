-- The referral program per period (var referral_period): reach among active customers, invite
-- conversion, viral coefficient K, cycle time, revenue, cost and chain length. Definitions in
-- _referral__models.yml.
{%- set period = var('referral_period') %}

with touchpoints as (
    select person_key, occurred_at, touchpoint_type, revenue_reporting
    from {{ ref('int_touchpoints_staged') }}
),

referrals as (
    select * from {{ ref('mart_referral_chains') }}
),

{{ activity_by_period_ctes(period) }},

periods as (
    select distinct
        activity_period as period_start,
        {{ dbt.dateadd(period, 1, 'activity_period') }} as period_end
    from activity
    where activity_kind = 'any_touchpoint'
),

first_purchases as (
    select person_key, min(occurred_at) as first_purchase_at
    from touchpoints
    where touchpoint_type = 'purchase'
    group by person_key
),

inviters as (
    select distinct person_key, {{ dbt.date_trunc(period, 'occurred_at') }} as period_start
    from touchpoints
    where touchpoint_type = 'referral_invite'
),

-- active customer: had made a first purchase before the period's end (a customer or fan in
-- mart_lifecycle's state at period end) and had any touchpoint in the period
-- (mart_lifecycle's activity_any_touchpoint); advocates are those of them who sent an invite
active_customers as (
    select
        periods.period_start,
        count(*) as active_customers,
        count(inviters.person_key) as advocates
    from activity
    inner join periods on activity.activity_period = periods.period_start
    inner join first_purchases
        on activity.person_key = first_purchases.person_key
        and first_purchases.first_purchase_at < periods.period_end
    left join inviters
        on activity.person_key = inviters.person_key
        and activity.activity_period = inviters.period_start
    where activity.activity_kind = 'any_touchpoint'
    group by periods.period_start
),

program_events as (
    select
        {{ dbt.date_trunc(period, 'occurred_at') }} as period_start,
        count(case when touchpoint_type = 'referral_invite' then 1 end) as invites_sent,
        count(case when touchpoint_type = 'referral_reward' then 1 end) as rewards_issued
    from touchpoints
    where touchpoint_type in ('referral_invite', 'referral_reward')
    group by 1
),

signups as (
    select
        {{ dbt.date_trunc(period, 'referred_at') }} as period_start,
        count(*) as referred_signups,
        {{ median('referral_cycle_days') }} as median_referral_cycle_days
    from referrals
    group by 1
),

customers as (
    select
        {{ dbt.date_trunc(period, 'first_purchase_after_referral_at') }} as period_start,
        count(*) as referred_customers
    from referrals
    where first_purchase_after_referral_at is not null
    group by 1
),

-- every purchase (first and repeat) a referred person made on or after being referred
revenue as (
    select
        {{ dbt.date_trunc(period, 'touchpoints.occurred_at') }} as period_start,
        {{ exact_sum('touchpoints.revenue_reporting') }} as referred_revenue
    from referrals
    inner join touchpoints
        on referrals.person_key = touchpoints.person_key
        and touchpoints.touchpoint_type = 'purchase'
        and touchpoints.occurred_at >= referrals.referred_at
    group by 1
),

-- the longest chain among referrals made before the period's end (people on a loop have none)
longest_chains as (
    select periods.period_start, max(referrals.referral_generation) as longest_chain_so_far
    from periods
    inner join referrals on referrals.referred_at < periods.period_end
    group by periods.period_start
),

counts as (
    select
        periods.period_start,
        coalesce(active_customers.active_customers, 0) as active_customers,
        coalesce(active_customers.advocates, 0) as advocates,
        coalesce(program_events.invites_sent, 0) as invites_sent,
        coalesce(signups.referred_signups, 0) as referred_signups,
        coalesce(customers.referred_customers, 0) as referred_customers,
        signups.median_referral_cycle_days,
        coalesce(revenue.referred_revenue, 0) as referred_revenue,
        coalesce(program_events.rewards_issued, 0) as rewards_issued,
        coalesce(longest_chains.longest_chain_so_far, 0) as longest_chain_so_far
    from periods
    left join active_customers on periods.period_start = active_customers.period_start
    left join program_events on periods.period_start = program_events.period_start
    left join signups on periods.period_start = signups.period_start
    left join customers on periods.period_start = customers.period_start
    left join revenue on periods.period_start = revenue.period_start
    left join longest_chains on periods.period_start = longest_chains.period_start
),

rates as (
    select
        *,
        case when active_customers > 0 then invites_sent * {{ double_literal('1.0') }} / active_customers end as invites_per_active_customer,
        case when invites_sent > 0 then referred_signups * {{ double_literal('1.0') }} / invites_sent end as invite_to_signup_rate
    from counts
),

final as (
    select
        period_start,
        active_customers,
        advocates,
        invites_sent,
        referred_signups,
        invites_per_active_customer,
        invite_to_signup_rate,
        -- K = invites per active customer x sign-ups per invite (null when either is undefined)
        invites_per_active_customer * invite_to_signup_rate as viral_coefficient_k,
        median_referral_cycle_days,
        referred_customers,
        referred_revenue,
        rewards_issued,
        rewards_issued * cast({{ var('referral_reward_amount') }} as double) as reward_cost,
        longest_chain_so_far
    from rates
)

select * from final
