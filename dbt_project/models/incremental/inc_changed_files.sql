-- The landed files this build rebuilds, per lake table: file versions the previous build did not
-- read (new, re-delivered, re-ingested: another batch), files gone from the lake (a full refresh
-- of ingestion removed them, or a re-delivery has no rows left for this table), and every file
-- landed in the window (vars window_start / window_end: a backfill's days; none by default). Compared with what the previous build
-- read (inc_lake_files), not with what ingestion says it did: a night that ingested and then
-- failed before publishing is caught up by the next one, whatever its window.
-- Empty on a full refresh or a first build: every incremental model then builds whole.
{%- set built_before = previous_relation('inc_lake_files', 'incremental') %}
with lake as (
    select * from {{ ref('inc_lake_file_versions') }}
),

built as (
    {% if built_before is not none -%}
    select lake_table, source_file, batch_id from {{ built_before }}
    {%- else -%}
    select lake_table, source_file, batch_id from lake where false  -- no ledger yet: every file is new
    {%- endif %}
),

changed as (
    select lake.lake_table, lake.source_file, lake.batch_id, 'not built before' as reason, 2 as priority
    from lake
    anti join built using (lake_table, source_file, batch_id)

    union all

    select lake.lake_table, lake.source_file, lake.batch_id, 'in window' as reason, 3 as priority
    from lake
    where {{ in_window('lake.landed_day') }}

    union all

    select built.lake_table, built.source_file, built.batch_id, 'gone from the lake' as reason, 1 as priority
    from built
    anti join lake using (lake_table, source_file)
),

final as (
    select lake_table, source_file, {{ arg_min('reason', 'priority') }} as reason
    from changed
    group by lake_table, source_file
)

select * from final
{% if not has_previous_build() %}where false{% endif %}
