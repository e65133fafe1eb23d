{{ config(
    materialized='incremental',
    unique_key='person_key',
    changed_keys='inc_changed_people',
) }}
-- depends_on: {{ ref('inc_changed_people') }}
-- One row per person: what their own touchpoints say (first touch, first lead, first purchase,
-- purchases, lifetime revenue, latest NPS). dim_people adds the referrals, which depend on other
-- people's touchpoints too. Definitions are in _marts__models.yml (dim_people).
-- Incremental: only the people of inc_changed_people, each from all their touchpoints.
with touchpoints as {{ inlined() }} (
    select * from {{ ref('int_touchpoints_staged') }}
    {{ changed_keys_only() }}
),

activity as (
    select
        person_key,
        {{ first_row(['occurred_at', 'touchpoint_id'], ['channel', 'campaign_name', 'need']) }} as first_touch,
        count(*) as touchpoints,
        max(occurred_at) as last_touch_at,
        min(case when touchpoint_type = 'lead_created' then occurred_at end) as first_lead_at,
        min(case when touchpoint_type = 'purchase' then occurred_at end) as first_purchase_at,
        count(case when touchpoint_type = 'purchase' then 1 end) as purchases,
        {{ exact_sum("case when touchpoint_type = 'purchase' then revenue end") }} as purchase_revenue,
        {{ exact_sum("case when touchpoint_type = 'purchase' then revenue_reporting end") }} as purchase_revenue_reporting,
        -- one currency if the least and the greatest agree (a count(distinct) would aggregate twice)
        min(case when touchpoint_type = 'purchase' then currency end) as purchase_currency,
        max(case when touchpoint_type = 'purchase' then currency end) as purchase_currency_max
    from touchpoints
    group by person_key
),

latest_nps as (
    select person_key, score as latest_nps, occurred_at as latest_nps_at
    from (
        select
            person_key,
            score,
            occurred_at,
            row_number() over (partition by person_key order by occurred_at desc, touchpoint_id desc) as answer_rank
        from touchpoints
        where touchpoint_type = 'survey_response' and score_scale = 'nps_0_10'
    ) as answers
    where answer_rank = 1
),

final as (
    select
        activity.person_key,
        activity.first_touch.occurred_at as first_touch_at,
        activity.first_touch.channel as first_touch_channel,
        activity.first_touch.campaign_name as first_touch_campaign,
        activity.first_touch.need as first_touch_need,
        activity.first_lead_at,
        activity.first_purchase_at,
        activity.last_touch_at,
        activity.touchpoints,
        activity.purchases,
        case
            when activity.purchase_currency is null or activity.purchase_currency = activity.purchase_currency_max
                then coalesce(activity.purchase_revenue, 0)
        end as lifetime_revenue,
        case
            when activity.purchase_currency = activity.purchase_currency_max then activity.purchase_currency
            when activity.purchase_currency <> activity.purchase_currency_max then 'MIXED'
        end as lifetime_revenue_currency,
        coalesce(activity.purchase_revenue_reporting, 0) as lifetime_revenue_reporting,
        latest_nps.latest_nps,
        latest_nps.latest_nps_at
    from activity
    left join latest_nps on activity.person_key = latest_nps.person_key
)

select * from final
