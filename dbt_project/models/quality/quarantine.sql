{{ config(
    materialized='incremental',
    unique_key='source_file',
    changed_keys='inc_changed_files',
    changed_keys_where="lake_table = 'quarantine'",
) }}
-- depends_on: {{ ref('inc_changed_files') }}
-- Rows ingestion could not normalize, as of the latest ingestion of each file.
-- raw_record keeps the row as read (it may hold personal data: restrict access to this table).
-- Incremental: the rows of the changed quarantine files (inc_changed_files) are replaced.
with quarantine as (
    select * from {{ ref('stg_lake__quarantine') }}
    {{ changed_keys_only() }}
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
