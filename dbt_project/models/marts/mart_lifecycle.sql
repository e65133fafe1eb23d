-- Lifecycle dynamics and states per period. Definitions in _marts__models.yml.
-- Computed from what changes, never from every person in every period: the dynamics from each
-- active period and the person's previous and next active periods; the states from the periods in
-- which a person's state can change (first seen, first lead, first purchase, first referral, an NPS
-- answer), each holding until the next one, counted as +1 / -1 and summed up to every period.
{%- set period = var('lifecycle_period') %}

with touchpoints as {{ inlined() }} (
    select touchpoint_id, person_key, occurred_at, touchpoint_type, revenue_reporting, score, score_scale, referrer_person_key
    from {{ ref('int_touchpoints_staged') }}
),

{{ activity_by_period_ctes(period) }},

-- every period with a touchpoint, numbered: "the previous period" is the previous one of these
periods as (
    select period_start, row_number() over (order by period_start) as period_number
    from (select distinct activity_period as period_start from activity where activity_kind = 'any_touchpoint') as active_periods
),

last_period as (
    select max(period_number) as period_number from periods
),

-- the numbers of each active period and of the person's previous and next one (int_people_periods)
active_periods as (
    select
        activity.activity_kind,
        activity.person_key,
        periods.period_number,
        previous_periods.period_number as previous_active,
        next_periods.period_number as next_active
    from activity
    inner join periods on activity.activity_period = periods.period_start
    left join periods as previous_periods on activity.previous_active_period = previous_periods.period_start
    left join periods as next_periods on activity.next_active_period = next_periods.period_start
),

-- new / returning / resurrecting in each active period; dormant in the period after an active one
-- in which the person is not active (if that period exists yet)
dynamics as (
    select
        period_number,
        'activity_' || activity_kind as measure,
        case
            when previous_active is null then 'new'
            when previous_active = period_number - 1 then 'returning'
            else 'resurrecting'
        end as status
    from active_periods
    union all
    select active_periods.period_number + 1 as period_number, 'activity_' || activity_kind as measure, 'dormant' as status
    from active_periods
    cross join last_period
    where (active_periods.next_active is null or active_periods.next_active > active_periods.period_number + 1)
        and active_periods.period_number < last_period.period_number
),

dynamics_counts as (
    select periods.period_start, dynamics.measure, dynamics.status, count(*) as people
    from dynamics
    inner join periods on dynamics.period_number = periods.period_number
    group by periods.period_start, dynamics.measure, dynamics.status
),

-- the periods in which each state input first holds (x < period end, i.e. its period <= the period)
milestones as (
    select
        person_key,
        min(case when activity_kind = 'any_touchpoint' then activity_period end) as appeared_period,
        min(case when activity_kind = 'purchase' then activity_period end) as customer_period
    from activity
    group by person_key
),

leads as (
    select person_key, min({{ dbt.date_trunc(period, 'occurred_at') }}) as lead_period
    from touchpoints
    where touchpoint_type = 'lead_created'
    group by person_key
),

first_referrals as (
    select referrer_person_key as person_key, min({{ dbt.date_trunc(period, 'occurred_at') }}) as referred_period
    from touchpoints
    where touchpoint_type = 'referral_signup' and referrer_person_key is not null
    group by referrer_person_key
),

-- each person's last NPS answer of each period: the latest as of that period's end
nps_answers as (
    select person_key, answer_period, score as latest_nps
    from (
        select
            person_key,
            {{ dbt.date_trunc(period, 'occurred_at') }} as answer_period,
            score,
            row_number() over (
                partition by person_key, {{ dbt.date_trunc(period, 'occurred_at') }}
                order by occurred_at desc, touchpoint_id desc
            ) as answer_rank
        from touchpoints
        where touchpoint_type = 'survey_response' and score_scale = 'nps_0_10'
    ) as answers
    where answer_rank = 1
),

change_periods as (
    select person_key, appeared_period as period_start from milestones
    union
    select milestones.person_key, periods.period_start
    from milestones inner join periods on periods.period_number = 1
    union
    select person_key, customer_period from milestones where customer_period is not null
    union
    select person_key, lead_period from leads
    union
    select person_key, referred_period from first_referrals
    union
    select person_key, answer_period from nps_answers
),

changes as (
    select
        change_periods.person_key,
        change_periods.period_start,
        lead(change_periods.period_start) over (
            partition by change_periods.person_key order by change_periods.period_start
        ) as next_change,
        max(nps_answers.answer_period) over (
            partition by change_periods.person_key order by change_periods.period_start
            rows between unbounded preceding and current row
        ) as nps_period,
        milestones.appeared_period,
        milestones.customer_period,
        leads.lead_period,
        first_referrals.referred_period
    from change_periods
    -- a referrer or an answer of someone with no touchpoint of their own is nobody's state
    inner join milestones on change_periods.person_key = milestones.person_key
    left join leads on change_periods.person_key = leads.person_key
    left join first_referrals on change_periods.person_key = first_referrals.person_key
    left join nps_answers
        on change_periods.person_key = nps_answers.person_key
        and change_periods.period_start = nps_answers.answer_period
),

states as (
    select
        changes.period_start,
        changes.next_change,
        {{ lifecycle_state(
            has_appeared='changes.appeared_period <= changes.period_start',
            is_lead='changes.lead_period <= changes.period_start',
            is_customer='changes.customer_period <= changes.period_start',
            has_referred='changes.referred_period <= changes.period_start',
            latest_nps='nps_answers.latest_nps',
        ) }} as status
    from changes
    left join nps_answers
        on changes.person_key = nps_answers.person_key
        and changes.nps_period = nps_answers.answer_period
),

-- a state holds from its change period up to (not including) the person's next one
state_deltas as (
    select period_start, status, sum(delta) as delta
    from (
        select period_start, status, 1 as delta from states
        union all
        select next_change as period_start, status, -1 as delta from states where next_change is not null
    ) as deltas
    group by period_start, status
),

state_counts as (
    select
        periods.period_start,
        'lifecycle_state' as measure,
        state_deltas.status,
        sum(state_deltas.delta) as people
    from periods
    inner join state_deltas on state_deltas.period_start <= periods.period_start
    group by periods.period_start, state_deltas.status
),

final as (
    select period_start, measure, status, people from dynamics_counts
    union all
    select period_start, measure, status, cast(people as {{ dbt.type_bigint() }}) as people
    from state_counts
    where people > 0
)

select * from final
