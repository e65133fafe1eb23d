-- One row per referred person: who referred them and when (int_referrals), their place in the
-- referral chain (int_referral_generations), the referral cycle time and whether they bought
-- after being referred. Definitions in _referral__models.yml.
with referrals as (
    select * from {{ ref('int_referrals') }}
),

generations as (
    select * from {{ ref('int_referral_generations') }}
),

people as (
    select person_key, first_touch_at, first_purchase_at from {{ ref('dim_people') }}
),

anchored as (
    select
        referrals.person_key,
        referrals.referrer_person_key,
        referrals.referred_at,
        referrals.referral_source,
        -- cycle time runs from the referrer's first purchase if it came before the referral,
        -- else from the referrer's first touchpoint (a referrer who had not bought yet)
        case
            when referrer.first_purchase_at <= referrals.referred_at then 'first_purchase'
            when referrer.first_touch_at is not null then 'first_touchpoint'
        end as referral_cycle_anchor,
        case
            when referrer.first_purchase_at <= referrals.referred_at then referrer.first_purchase_at
            else referrer.first_touch_at
        end as referral_cycle_anchor_at,
        -- a referred customer is someone whose first purchase came on or after the referral
        case
            when referred.first_purchase_at >= referrals.referred_at then referred.first_purchase_at
        end as first_purchase_after_referral_at
    from referrals
    left join people as referrer on referrals.referrer_person_key = referrer.person_key
    left join people as referred on referrals.person_key = referred.person_key
),

final as (
    select
        anchored.person_key,
        anchored.referrer_person_key,
        anchored.referred_at,
        anchored.referral_source,
        generations.root_referrer_person_key,
        generations.generation as referral_generation,
        generations.in_cycle,
        generations.below_cycle,
        anchored.referral_cycle_anchor,
        anchored.referral_cycle_anchor_at,
        {{ dbt.datediff('anchored.referral_cycle_anchor_at', 'anchored.referred_at', 'second') }} / {{ double_literal('86400.0') }}
            as referral_cycle_days,
        anchored.first_purchase_after_referral_at
    from anchored
    inner join generations on anchored.person_key = generations.person_key
)

select * from final
