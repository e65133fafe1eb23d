{{ config(
    materialized='incremental',
    unique_key='spend_id',
    changed_keys='inc_changed_ad_spend',
) }}
-- depends_on: {{ ref('inc_changed_ad_spend') }}
-- Campaign x day spend, one row per platform campaign and day (a re-delivered report adds nothing).
-- Incremental: the ids of inc_changed_ad_spend are replaced (models/incremental/ says which).
with spend as (
    select * from {{ ref('int_ad_spend_deduplicated') }}
    {{ changed_keys_only() }}
),

rates as (
    select * from {{ ref('int_currency_rates') }}
),

final as (
    select
        spend.spend_id,
        spend.spend_date,
        spend.source_system,
        spend.channel,
        spend.campaign_id,
        spend.campaign_name,
        spend.impressions,
        spend.clicks,
        spend.spend,
        spend.currency,
        spend.spend * rates.reporting_per_unit as spend_reporting
    from spend
    left join rates on {{ currency_rate_match('rates', 'spend.currency', 'spend.spend_date') }}
)

select * from final
