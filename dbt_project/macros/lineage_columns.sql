{#- Lineage columns every lake table carries (ingestion/schema.py:_lineage), typed for the warehouse. -#}
{% macro lineage_columns() -%}
        source_file,
        cast(source_row as bigint) as source_row,
        cast(ingested_at as timestamp) as ingested_at,
        batch_id
{%- endmacro %}
