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
    {%- for relation in adapter.dispatch('project_schema_relations', 'touchline')(schemas) -%}
        {%- if (relation.schema | lower) ~ '.' ~ (relation.identifier | lower) not in expected -%}
            {%- do log("dropping " ~ relation ~ ": no model of the project builds it", info=true) -%}
            {%- do adapter.drop_relation(relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}

{#- The tables and views of the given schemas, as relations. -#}
{% macro duckdb__project_schema_relations(schemas) -%}
    {%- set relations = [] -%}
    {%- set found = run_query(
        "select table_schema, table_name, table_type from information_schema.tables where table_catalog = '"
        ~ target.database ~ "' and lower(table_schema) in ('" ~ (schemas | map('lower') | join("', '")) ~ "')") -%}
    {%- for schema, name, kind in found.rows -%}
        {%- do relations.append(api.Relation.create(database=target.database, schema=schema, identifier=name,
                                                    type='view' if kind == 'VIEW' else 'table')) -%}
    {%- endfor -%}
    {{ return(relations) }}
{%- endmacro %}

{#- Spark has no information_schema: `show tables` per existing schema (temporary views left out). -#}
{% macro default__project_schema_relations(schemas) -%}
    {%- set relations = [] -%}
    {%- for schema in schemas if adapter.check_schema_exists(target.database, schema) -%}
        {%- for row in run_query('show tables in ' ~ schema).rows if not row['isTemporary'] -%}
            {%- do relations.append(adapter.get_relation(database=target.database, schema=schema, identifier=row['tableName'])) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(relations) }}
{%- endmacro %}
