-- Rows ingestion could not normalize, with the reason (for the quality report).
with source as (
    select * from {{ source('lake', 'quarantine') }}
),

renamed as (
    select
        source_system,
        source_file,
        cast(source_row as bigint) as source_row,
        cast(source_line as bigint) as source_line,
        reason,
        raw_record,
        cast(ingested_at as timestamp) as ingested_at,
        batch_id
    from source
)

select * from renamed
