{{ config(
    materialized='incremental',
    unique_key='spend_id',
    changed_keys='inc_changed_ad_spend',
) }}
-- depends_on: {{ ref('inc_changed_ad_spend') }}
-- One row per spend_id (platform campaign x day), with its lineage: a re-delivered report adds
-- nothing, the first delivery wins (earliest ingestion, then file path, then row number).
-- Incremental: only the ids of inc_changed_ad_spend, each from every delivery of it in the lake.
with deliveries as (
    select * from {{ ref('stg_lake__ad_spend') }}
    {{ changed_keys_only() }}
),

ranked as (
    select
        *,
        row_number() over (partition by spend_id order by ingested_at, source_file, source_row) as delivery_rank
    from deliveries
)

select {{ star_except(['delivery_rank']) }} from ranked where delivery_rank = 1
