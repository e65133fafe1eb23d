-- One row per landed file and ingestion run, as ingestion reconciled it.
with source as (
    select * from {{ source('lake', 'load_log') }}
),

renamed as (
    select
        batch_id,
        source_system,
        source_file,
        cast(landed_day as date) as landed_day,
        file_sha256,
        cast(rows_read as bigint) as rows_read,
        cast(rows_loaded as bigint) as rows_loaded,
        cast(rows_quarantined as bigint) as rows_quarantined,
        cast(duplicates_dropped as bigint) as duplicates_dropped,
        file_rejected,
        cast(ingested_at as timestamp) as ingested_at
    from source
)

select * from renamed
