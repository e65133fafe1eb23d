{#- Incremental builds (models/incremental/ says how the change sets are computed).

    An incremental model here rebuilds only the keys of a change set model: its select returns the
    rows of those keys as a full rebuild would compute them, and the `replace_changed` strategy
    deletes every row of those keys from the table, then inserts the select's rows. A key that no
    longer exists anywhere (its file was removed, or re-delivered without it) is deleted and not
    re-inserted: delete+insert would keep it, since it deletes only the keys its rows bring. -#}

{#- An incremental model: `{{ config(materialized='incremental', unique_key=<column>,
    changed_keys=<change set model>) }}` (and optionally changed_keys_where, a filter on the change
    set), a `-- depends_on:` comment naming the change set (dbt cannot see a ref made only in an
    incremental build), and `{{ changed_keys_only() }}` after the input it recomputes from.
    dbt_project.yml sets the strategy (replace_changed) and on_schema_change (fail) for all of them. -#}

{#- The keys of the change set (a subquery). -#}
{% macro changed_keys_query() -%}
    {%- set key = config.require('unique_key') -%}
    {%- set where = config.get('changed_keys_where') -%}
    select {{ key }} from {{ ref(config.require('changed_keys')) }}{% if where %} where {{ where }}{% endif %}
{%- endmacro %}

{#- In an incremental build, only the input rows of the change set's keys: `from x {{ changed_keys_only() }}`. -#}
{% macro changed_keys_only() -%}
    {%- if is_incremental() -%}
    semi join ({{ changed_keys_query() }}) as changed using ({{ config.require('unique_key') }})
    {%- endif -%}
{%- endmacro %}

{#- The strategy: every row of the change set's keys goes, then the select's rows come in. -#}
{% macro get_incremental_replace_changed_sql(arg_dict) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }}
    where {{ config.require('unique_key') }} in ({{ changed_keys_query() }});
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}


{#- The table as the previous build left it (the staging file starts from a copy of the published
    warehouse), or none: with --full-refresh, at parse time, or when it does not exist. Used by the
    change set models, which run before the models they inspect are rebuilt. -#}
{% macro previous_relation(identifier, schema=none) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema=schema or target.schema, identifier=identifier)) }}
{%- endmacro %}


{#- Whether the change sets are computed at all: not on a full refresh, nor when the warehouse holds
    no earlier build (then every incremental model is new and builds whole). -#}
{% macro has_previous_build() -%}
    {{ return(previous_relation('inc_lake_files', 'incremental') is not none
              or previous_relation('fct_touchpoints') is not none) }}
{%- endmacro %}


{#- The landing day of a lake row: the day folder of its landed file (`<source>/<YYYY-MM-DD>/<file>`). -#}
{% macro landed_day(source_file) -%}
    try_cast(split_part({{ source_file }}, '/', 2) as date)
{%- endmacro %}


{#- vars window_start / window_end: ISO dates, inclusive, of landing days (the Dagster partition
    range of the run). Files landed in the window are rebuilt even if the warehouse already holds
    their current version. Both null (the default): every file is in the window. -#}
{% macro window_bound(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none or value == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set value = value | string -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be an ISO date (YYYY-MM-DD) or null, got " ~ value) }}
    {%- endif -%}
    {%- do modules.datetime.date.fromisoformat(value) -%}
    {{ return(value) }}
{%- endmacro %}

{% macro in_window(day) -%}
    {%- set conditions = [] -%}
    {%- set start, end = window_bound('window_start'), window_bound('window_end') -%}
    {%- if start -%}{%- do conditions.append(day ~ " >= date '" ~ start ~ "'") -%}{%- endif -%}
    {%- if end -%}{%- do conditions.append(day ~ " <= date '" ~ end ~ "'") -%}{%- endif -%}
    {{ '(' ~ conditions | join(' and ') ~ ')' if conditions else 'false' }}
{%- endmacro %}


{#- Spark: dbt-spark's incremental materialization accepts only its own strategies. It takes
    replace_changed here, so that the incremental models build whole (a first build or
    --full-refresh); an incremental run on Spark stops with an error, since parquet tables cannot
    delete rows (a table format such as Delta or Iceberg could: not done). -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy == 'replace_changed' -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt_spark.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{%- endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy == 'replace_changed' -%}
        {{ exceptions.raise_compiler_error(
            "the replace_changed incremental strategy is not implemented on Spark: build with --full-refresh into an empty schema") }}
    {%- endif -%}
    {{ return(dbt_spark.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates)) }}
{%- endmacro %}


{#- Only the lake rows of the files in inc_touchpoint_files, when `incremental` (the caller's
    incremental build: is_incremental() in an incremental model): a where clause after
    `from stg_lake__touchpoints as x semi join ...`: `{{ touchpoint_files_only('x', is_incremental()) }}`.
    The list is inlined as constants, so DuckDB skips the other files' row groups by their
    statistics (source_file is one value per file). Nothing (the whole lake) otherwise, at parse
    time, or when a row says 'whole lake'. -#}
{% macro touchpoint_files_only(relation_alias, incremental) -%}
    {%- if not execute or not incremental -%}
        {{ return('') }}
    {%- endif -%}
    {%- set files = run_query('select source_file, reason from ' ~ ref('inc_touchpoint_files')) -%}
    {%- if 'whole lake' in files.columns['reason'].values() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set names = files.columns['source_file'].values() | list -%}
    {%- if names | length == 0 -%}
        where false
    {%- else -%}
        where {{ relation_alias }}.source_file in ({% for name in names %}'{{ name | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}
