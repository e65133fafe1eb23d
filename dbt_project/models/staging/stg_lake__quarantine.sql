-- Rows ingestion could not normalize, with the reason (for the quality report).
with source as (
    select * from {{ source('lake', 'quarantine') }}
),

renamed as (
    select
        source_system,
        cast(source_line as bigint) as source_line,
        reason,
        raw_record,
        {{ lineage_columns() }}
    from source
)

select * from renamed
