-- Rows ingestion could not normalize, as of the latest ingestion of each file.
-- raw_record keeps the row as read (it may hold personal data: restrict access to this table).
with quarantine as (
    select * from {{ ref('stg_lake__quarantine') }}
),

final as (
    select
        source_system,
        source_file,
        source_row,
        source_line,
        reason,
        raw_record,
        ingested_at,
        batch_id
    from quarantine
)

select * from final
