-- One row per touchpoint_id: a re-delivered export (same vendor record keys) adds nothing.
-- The first delivery wins: earliest ingestion, then file path, then row number.
with touchpoints as (
    select * from {{ ref('stg_lake__touchpoints') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by touchpoint_id
            order by ingested_at, source_file, source_row
        ) as delivery_rank
    from touchpoints
),

final as (
    select * from ranked where delivery_rank = 1
)

select * from final
