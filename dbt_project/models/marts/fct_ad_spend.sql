-- Campaign x day spend, one row per platform campaign and day (a re-delivered report adds nothing).
with spend as (
    select * from {{ ref('stg_lake__ad_spend') }}
),

ranked as (
    select
        *,
        row_number() over (partition by spend_id order by ingested_at, source_file, source_row) as delivery_rank
    from spend
),

final as (
    select
        spend_id,
        spend_date,
        source_system,
        channel,
        campaign_id,
        campaign_name,
        impressions,
        clicks,
        spend,
        currency
    from ranked
    where delivery_rank = 1
)

select * from final
