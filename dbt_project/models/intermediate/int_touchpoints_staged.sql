{{ config(
    materialized='incremental',
    unique_key='person_key',
    changed_keys='inc_changed_people',
) }}
-- depends_on: {{ ref('inc_changed_people') }}
-- Touchpoints with the funnel stage they count for, the person's purchase sequence and revenue
-- in the reporting currency (var reporting_currency, rates from seeds/currency_rates.csv).
-- A person's first purchase reaches the purchase stage; a repeat purchase reaches retention.
-- Post-purchase stages need a purchase: a survey answer or referral before the person's first
-- purchase (a post-support survey, an invite from a non-customer) counts as consideration.
-- Incremental: only the people of inc_changed_people, each from all their touchpoints (every
-- column here depends on the person's own touchpoints and the seeds; a change to the seeds or
-- the models rebuilds everything: orchestration/dbt.py).
with touchpoints as {{ inlined() }} (
    select * from {{ ref('int_touchpoints_resolved') }}
    {{ changed_keys_only() }}
),

stages as (
    select * from {{ ref('journey_stages') }}
),

rates as (
    select * from {{ ref('int_currency_rates') }}
),

-- purchase_number and first_purchase_at from the purchases alone: a window over every touchpoint
-- would sort all of them, every column included
purchases as (
    select
        touchpoint_id,
        person_key,
        occurred_at,
        row_number() over (partition by person_key order by occurred_at, touchpoint_id) as purchase_number
    from touchpoints
    where touchpoint_type = 'purchase'
),

first_purchases as (
    select person_key, min(occurred_at) as first_purchase_at
    from purchases
    group by person_key
),

numbered as (
    select
        touchpoints.*,
        purchases.purchase_number,
        first_purchases.first_purchase_at
    from touchpoints
    left join purchases on touchpoints.touchpoint_id = purchases.touchpoint_id
    left join first_purchases on touchpoints.person_key = first_purchases.person_key
),

staged as (
    select
        numbered.*,
        case
            when numbered.purchase_number > 1 then 'retention'
            when numbered.journey_stage in ('retention', 'advocacy')
                and (numbered.first_purchase_at is null or numbered.occurred_at < numbered.first_purchase_at)
                then 'consideration'
            else numbered.journey_stage
        end as funnel_stage
    from numbered
),

-- The columns the person-level models and marts read, not every column of the touchpoint: this
-- table is rewritten whole on a full build (9.3 M rows at 660k people), and the lineage, UTM and
-- ingested-key columns left out (long strings) were most of what it wrote. A model that needs
-- another column adds it here (or joins fct_touchpoints on touchpoint_id).
final as (
    select
        staged.touchpoint_id,
        staged.person_key,
        staged.referrer_person_key,
        staged.occurred_at,
        staged.channel,
        staged.touchpoint_type,
        staged.journey_stage,
        staged.need,
        staged.campaign_id,
        staged.campaign_name,
        staged.revenue,
        staged.currency,
        staged.score,
        staged.score_scale,
        staged.purchase_number,
        staged.first_purchase_at,
        staged.funnel_stage,
        stages.stage_order as funnel_stage_order,
        staged.revenue * rates.reporting_per_unit as revenue_reporting
    from staged
    inner join stages on staged.funnel_stage = stages.journey_stage
    left join rates
        on {{ currency_rate_match('rates', 'staged.currency', 'cast(staged.occurred_at as date)') }}
)

select * from final
