-- Every landed file of every ingestion run with its reconciliation:
-- rows_read = rows_loaded + rows_quarantined + duplicates_dropped (tested).
with load_log as (
    select * from {{ ref('stg_lake__load_log') }}
),

final as (
    select
        batch_id,
        ingested_at,
        source_system,
        source_file,
        landed_day,
        file_sha256,
        rows_read,
        rows_loaded,
        rows_quarantined,
        duplicates_dropped,
        file_rejected,
        rows_read = rows_loaded + rows_quarantined + duplicates_dropped as is_balanced
    from load_log
)

select * from final
