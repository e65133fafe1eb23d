-- Referral chains: for each referred person, the chain's root (the first advocate, whom nobody
-- referred) and the generation (a root's direct referrals are 1, theirs 2, ...). Found by walking
-- up the referrers one step at a time, carrying the people visited. Bad data can loop (A refers
-- B, B refers A): the walk stops when it reaches someone already visited. People on such a loop
-- get in_cycle = true, people whose referrers lead into a loop below_cycle = true; both have no
-- root and no generation (null), because their chain has no first advocate.
with referrals as (
    select person_key, referrer_person_key from {{ ref('int_referrals') }}
),

-- the recursion is nested so that dbt can put its own CTEs in front of the outer `with`
walks as (
    with recursive walk as (
        select
            person_key as start_person_key,
            referrer_person_key as reached_person_key,
            1 as steps,
            {{ list_of(['person_key', 'referrer_person_key']) }} as visited,
            person_key = referrer_person_key as revisited
        from referrals
        union all
        select
            walk.start_person_key,
            referrals.referrer_person_key as reached_person_key,
            walk.steps + 1 as steps,
            {{ list_append('walk.visited', 'referrals.referrer_person_key') }} as visited,
            {{ list_contains('walk.visited', 'referrals.referrer_person_key') }} as revisited
        from walk
        inner join referrals on walk.reached_person_key = referrals.person_key
        where not walk.revisited
    )

    select * from walk
),

-- the last step of each walk: a root (nobody referred them) or a person visited before
walk_ends as (
    select *
    from (
        select
            *,
            row_number() over (partition by start_person_key order by steps desc) as step_rank
        from walks
    ) as ranked
    where step_rank = 1
),

final as (
    select
        referrals.person_key,
        referrals.referrer_person_key,
        case when not walk_ends.revisited then walk_ends.reached_person_key end as root_referrer_person_key,
        case when not walk_ends.revisited then walk_ends.steps end as generation,
        -- the first person met twice on the way up is the start itself only if the start is on the loop
        walk_ends.revisited and walk_ends.reached_person_key = referrals.person_key as in_cycle,
        walk_ends.revisited and walk_ends.reached_person_key != referrals.person_key as below_cycle
    from referrals
    inner join walk_ends on referrals.person_key = walk_ends.start_person_key
)

select * from final
