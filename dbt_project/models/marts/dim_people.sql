-- One row per person: first touch, first lead, first purchase, lifecycle state, referrer,
-- purchases, lifetime revenue and latest NPS. Definitions are in _marts__models.yml.
-- What the person's own touchpoints say is int_people_activity (incremental, per person); the
-- referrals here depend on other people's touchpoints too, so they are joined afresh each build.
with people as (
    select * from {{ ref('int_people_activity') }}
),

-- the one referral rule (int_referrals): the sign-up event's referrer, else the CRM referral code's
referred_by as (
    select person_key, referrer_person_key from {{ ref('int_referrals') }}
),

referrals_made as (
    select
        referrer_person_key as person_key,
        count(distinct person_key) as people_referred
    from referred_by
    group by referrer_person_key
),

final as (
    select
        people.person_key,
        people.first_touch_at,
        people.first_touch_channel,
        people.first_touch_campaign,
        people.first_touch_need,
        people.first_touch_channel as acquisition_channel,
        people.first_lead_at,
        people.first_purchase_at,
        people.last_touch_at,
        people.touchpoints,
        people.purchases,
        people.lifetime_revenue,
        people.lifetime_revenue_currency,
        people.lifetime_revenue_reporting,
        referred_by.referrer_person_key,
        coalesce(referrals_made.people_referred, 0) as people_referred,
        people.latest_nps,
        people.latest_nps_at,
        {{ lifecycle_state(
            has_appeared='true',
            is_lead='people.first_lead_at is not null',
            is_customer='people.purchases > 0',
            has_referred='coalesce(referrals_made.people_referred, 0) > 0',
            latest_nps='people.latest_nps',
        ) }} as lifecycle_state
    from people
    left join referred_by on people.person_key = referred_by.person_key
    left join referrals_made on people.person_key = referrals_made.person_key
)

select * from final
