-- Every file version the lake holds now, per per-file lake table: one row per (table, landed file)
-- with the batch that wrote it. Reads two columns of the lake (constant within a file), once per
-- build: a table, since the change sets and the ledger all read it (an ephemeral model would scan
-- every lake file again for each of them).
{%- set tables = {'touchpoints': 'stg_lake__touchpoints', 'ad_spend': 'stg_lake__ad_spend', 'quarantine': 'stg_lake__quarantine'} %}
{% for lake_table, model in tables.items() %}
select
    '{{ lake_table }}' as lake_table,
    source_file,
    batch_id,
    {{ landed_day('source_file') }} as landed_day,
    count(*) as lake_rows
from {{ ref(model) }}
group by source_file, batch_id
{% if not loop.last %}union all{% endif %}
{% endfor %}
