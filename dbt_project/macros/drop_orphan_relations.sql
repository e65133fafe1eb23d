{#- on-run-end: drop the tables and views of this project's schemas that no model, seed or snapshot
    of the project builds any more. An incremental build starts from a copy of the published
    warehouse (touchline/publish.py), so a model removed or renamed since would otherwise leave its
    old table there for good, and the warehouse would no longer be what a full rebuild makes. -#}
{% macro drop_orphan_relations() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set expected = {} -%}
    {%- set schemas = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed', 'snapshot') -%}
        {%- if node.config.materialized != 'ephemeral' -%}
            {%- do expected.update({(node.schema | lower) ~ '.' ~ (node.alias | lower): true}) -%}
            {%- if node.schema not in schemas -%}{%- do schemas.append(node.schema) -%}{%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set found = run_query(
        "select table_schema, table_name, table_type from information_schema.tables where table_catalog = '"
        ~ target.database ~ "' and lower(table_schema) in ('" ~ (schemas | map('lower') | join("', '")) ~ "')") -%}
    {%- for schema, name, kind in found.rows -%}
        {%- if (schema | lower) ~ '.' ~ (name | lower) not in expected -%}
            {%- set relation = api.Relation.create(database=target.database, schema=schema, identifier=name,
                                                   type='view' if kind == 'VIEW' else 'table') -%}
            {%- do log("dropping " ~ relation ~ ": no model of the project builds it", info=true) -%}
            {%- do adapter.drop_relation(relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}
