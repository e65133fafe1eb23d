{{ config(meta={'dagster': {'ref': {'name': 'quarantine'}}}) }}
-- Each file's quarantined rows equal the count its latest load_log row reports.
with latest as (
    select *
    from (
        select
            *,
            row_number() over (partition by source_file order by ingested_at desc, batch_id desc) as run_rank
        from {{ ref('load_log') }}
    ) as ranked
    where run_rank = 1
),

quarantined as (
    select source_file, count(*) as rows_quarantined
    from {{ ref('quarantine') }}
    where source_row > 0
    group by source_file
)

select latest.source_file, latest.rows_quarantined, quarantined.rows_quarantined as in_quarantine
from latest
left join quarantined on latest.source_file = quarantined.source_file
where latest.rows_quarantined != coalesce(quarantined.rows_quarantined, 0)
