-- Campaign x day spend rows as ingested from the ad platform reports.
with source as (
    select * from {{ source('lake', 'ad_spend') }}
),

renamed as (
    select
        spend_id,
        cast(spend_date as date) as spend_date,
        source_system,
        channel,
        campaign_id,
        campaign_name,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(spend as double) as spend,
        currency,
        {{ lineage_columns() }}
    from source
)

select * from renamed
