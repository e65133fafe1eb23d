-- Campaign x day spend, one row per platform campaign and day (a re-delivered report adds nothing).
with spend as (
    select * from {{ ref('stg_lake__ad_spend') }}
),

rates as (
    select * from {{ ref('int_currency_rates') }}
),

ranked as (
    select
        *,
        row_number() over (partition by spend_id order by ingested_at, source_file, source_row) as delivery_rank
    from spend
),

final as (
    select
        ranked.spend_id,
        ranked.spend_date,
        ranked.source_system,
        ranked.channel,
        ranked.campaign_id,
        ranked.campaign_name,
        ranked.impressions,
        ranked.clicks,
        ranked.spend,
        ranked.currency,
        ranked.spend * rates.reporting_per_unit as spend_reporting
    from ranked
    left join rates on {{ currency_rate_match('rates', 'ranked.currency', 'ranked.spend_date') }}
    where delivery_rank = 1
)

select * from final
