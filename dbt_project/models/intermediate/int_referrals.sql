-- Who referred whom, and when: the one referral rule, used by dim_people and the referral marts.
-- The referral program's sign-up event names the referrer (the person's earliest sign-up event
-- wins; ties by referrer key); else the CRM referral code does (int_referrals_by_code). One row
-- per referred person. referred_at = that sign-up event, or the creation of the CRM record that
-- carried the code (the person's first touchpoint when that record was not loaded).
with touchpoints as (
    select * from {{ ref('int_touchpoints_staged') }}
),

code_referrals as (
    select * from {{ ref('int_referrals_by_code') }}
),

signup_referrals as (
    select
        person_key,
        referrer_person_key,
        min(occurred_at) as referred_at
    from touchpoints
    where touchpoint_type = 'referral_signup' and referrer_person_key is not null
    group by person_key, referrer_person_key
),

first_signups as (
    select person_key, referrer_person_key, referred_at
    from (
        select
            *,
            row_number() over (partition by person_key order by referred_at, referrer_person_key) as signup_rank
        from signup_referrals
    ) as signups
    where signup_rank = 1
),

first_touches as (
    select person_key, min(occurred_at) as first_touch_at
    from touchpoints
    group by person_key
),

final as (
    select
        person_key,
        referrer_person_key,
        referred_at,
        'signup_event' as referral_source
    from first_signups
    union all
    select
        code_referrals.person_key,
        code_referrals.referrer_person_key,
        coalesce(code_referrals.referred_at, first_touches.first_touch_at) as referred_at,
        'referral_code' as referral_source
    from code_referrals
    left join first_touches on code_referrals.person_key = first_touches.person_key
    where not exists (
        select 1 from signup_referrals where signup_referrals.person_key = code_referrals.person_key
    )
)

select * from final
