{#- The SQL that DuckDB and Spark spell differently, one dispatch macro per construct, so that
    each model has one SQL text. duckdb__ is what the DuckDB build has always run (make run,
    make test); default__ is Spark SQL (the spark target; make test-spark compares the marts of
    both). Models call these instead of the DuckDB-only spelling. -#}

{#- A fractional literal that must be a double, not a decimal: DuckDB turns decimal division into
    double division, Spark keeps a decimal rounded to 6 places (1.0 / 3 = 0.333333). -#}
{% macro double_literal(text) -%}
    {{ return(adapter.dispatch('double_literal', 'touchline')(text)) }}
{%- endmacro %}
{% macro duckdb__double_literal(text) -%}{{ text }}{%- endmacro %}
{% macro default__double_literal(text) -%}cast({{ text }} as double){%- endmacro %}

{#- The string type in casts (Spark's varchar needs a length). -#}
{% macro string_type() -%}
    {{ return(adapter.dispatch('string_type', 'touchline')()) }}
{%- endmacro %}
{% macro duckdb__string_type() -%}varchar{%- endmacro %}
{% macro default__string_type() -%}string{%- endmacro %}

{#- An interval of `days` days, to add to or subtract from a timestamp. -#}
{% macro interval_days(days) -%}
    {{ return(adapter.dispatch('interval_days', 'touchline')(days)) }}
{%- endmacro %}
{% macro duckdb__interval_days(days) -%}interval ({{ days }}) day{%- endmacro %}
{% macro default__interval_days(days) -%}interval {{ days }} day{%- endmacro %}

{#- Every column of the select's input but the given ones: `select {{ star_except(['x']) }} from t`. -#}
{% macro star_except(columns) -%}
    {{ return(adapter.dispatch('star_except', 'touchline')(columns)) }}
{%- endmacro %}
{% macro duckdb__star_except(columns) -%}* exclude ({{ columns | join(', ') }}){%- endmacro %}
{% macro default__star_except(columns) -%}* except ({{ columns | join(', ') }}){%- endmacro %}

{#- The value of `value` on the row with the smallest `ordering`, as an aggregate. -#}
{% macro arg_min(value, ordering) -%}
    {{ return(adapter.dispatch('arg_min', 'touchline')(value, ordering)) }}
{%- endmacro %}
{% macro duckdb__arg_min(value, ordering) -%}arg_min({{ value }}, {{ ordering }}){%- endmacro %}
{% macro default__arg_min(value, ordering) -%}min_by({{ value }}, {{ ordering }}){%- endmacro %}

{#- count(distinct x) over a window (Spark has no distinct window functions). -#}
{% macro count_distinct_over(expression, partition_by) -%}
    {{ return(adapter.dispatch('count_distinct_over', 'touchline')(expression, partition_by)) }}
{%- endmacro %}
{% macro duckdb__count_distinct_over(expression, partition_by) -%}
    count(distinct {{ expression }}) over (partition by {{ partition_by }})
{%- endmacro %}
{% macro default__count_distinct_over(expression, partition_by) -%}
    size(collect_set({{ expression }}) over (partition by {{ partition_by }}))
{%- endmacro %}

{#- The group's values joined with `separator` in the order of `order_by`, as an aggregate. -#}
{% macro string_agg_ordered(expression, separator, order_by) -%}
    {{ return(adapter.dispatch('string_agg_ordered', 'touchline')(expression, separator, order_by)) }}
{%- endmacro %}
{% macro duckdb__string_agg_ordered(expression, separator, order_by) -%}
    string_agg({{ expression }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}
{% macro default__string_agg_ordered(expression, separator, order_by) -%}
    string_agg({{ expression }}, {{ separator }}) within group (order by {{ order_by }})
{%- endmacro %}

{#- Lists (DuckDB) / arrays (Spark) of strings. -#}

{#- The group's values as a list in the order of `order_by` (a column, unique in the group), as an aggregate. -#}
{% macro list_ordered(expression, order_by) -%}
    {{ return(adapter.dispatch('list_ordered', 'touchline')(expression, order_by)) }}
{%- endmacro %}
{% macro duckdb__list_ordered(expression, order_by) -%}list({{ expression }} order by {{ order_by }}){%- endmacro %}
{% macro default__list_ordered(expression, order_by) -%}
    transform(array_sort(collect_list(struct({{ order_by }} as sort_key, {{ expression }} as item))), entry -> entry.item)
{%- endmacro %}

{% macro list_of(items) -%}
    {{ return(adapter.dispatch('list_of', 'touchline')(items)) }}
{%- endmacro %}
{% macro duckdb__list_of(items) -%}[{{ items | join(', ') }}]{%- endmacro %}
{% macro default__list_of(items) -%}array({{ items | join(', ') }}){%- endmacro %}

{% macro empty_string_list() -%}
    {{ return(adapter.dispatch('empty_string_list', 'touchline')()) }}
{%- endmacro %}
{% macro duckdb__empty_string_list() -%}cast([] as varchar[]){%- endmacro %}
{% macro default__empty_string_list() -%}cast(array() as array<string>){%- endmacro %}

{% macro list_append(list, item) -%}
    {{ return(adapter.dispatch('list_append', 'touchline')(list, item)) }}
{%- endmacro %}
{% macro duckdb__list_append(list, item) -%}list_append({{ list }}, {{ item }}){%- endmacro %}
{% macro default__list_append(list, item) -%}array_append({{ list }}, {{ item }}){%- endmacro %}

{% macro list_contains(list, item) -%}
    {{ return(adapter.dispatch('list_contains', 'touchline')(list, item)) }}
{%- endmacro %}
{% macro duckdb__list_contains(list, item) -%}list_contains({{ list }}, {{ item }}){%- endmacro %}
{% macro default__list_contains(list, item) -%}array_contains({{ list }}, {{ item }}){%- endmacro %}

{% macro list_length(list) -%}
    {{ return(adapter.dispatch('list_length', 'touchline')(list)) }}
{%- endmacro %}
{% macro duckdb__list_length(list) -%}len({{ list }}){%- endmacro %}
{% macro default__list_length(list) -%}size({{ list }}){%- endmacro %}

{#- dbt-spark's dateadd goes through whole unix seconds and drops the fraction of a second that
    DuckDB keeps (lake timestamps have microseconds). -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}

{#- Some non-null value of the group, as an aggregate (Spark's any_value may return a null). -#}
{% macro any_value_not_null(expression) -%}
    {{ return(adapter.dispatch('any_value_not_null', 'touchline')(expression)) }}
{%- endmacro %}
{% macro duckdb__any_value_not_null(expression) -%}any_value({{ expression }}){%- endmacro %}
{% macro default__any_value_not_null(expression) -%}any_value({{ expression }}, true){%- endmacro %}

{#- `with x as {{ inlined() }} (...)`: a CTE read more than once that is only a select from a table
    (with its changed-keys filter). DuckDB materializes such a CTE by default, copying every row and
    column the select returns before the query runs (int_touchpoints_staged at 9.3 M touchpoints:
    102 s materialized, 26 s inlined, the model's SQL alone in DuckDB); reading the table again is
    cheaper. The copy also counts against DuckDB's memory cap: at 9.3 M touchpoints, under a cap of
    150 MB, int_funnel_person_stages ran out of memory with its people copied and fit with them
    inlined. Spark inlines CTEs anyway. -#}
{% macro inlined() -%}
    {{ return(adapter.dispatch('inlined', 'touchline')()) }}
{%- endmacro %}
{% macro duckdb__inlined() -%}not materialized{%- endmacro %}
{% macro default__inlined() -%}{%- endmacro %}

{#- `with x as {{ materialized() }} (...)`: a CTE read more than once that is small (an incremental
    build's few rows of a large input): computed once. -#}
{% macro materialized() -%}
    {{ return(adapter.dispatch('materialized', 'touchline')()) }}
{%- endmacro %}
{% macro duckdb__materialized() -%}materialized{%- endmacro %}
{% macro default__materialized() -%}{%- endmacro %}

{#- The first row of a group, as an aggregate: `{{ first_row(['occurred_at', 'touchpoint_id'], ['channel']) }} as first`,
    then `first.channel`; last_row() is the row with the greatest ordering. min() / max() of a
    struct compare its fields in order, so the ordering columns (unique together, never null) pick
    the row and the other fields come with it, nulls included (arg_min / min_by skip a row whose
    value is null). One pass over the rows, where row_number() over (partition by ...) sorts them. -#}
{% macro first_row(ordering, columns) -%}
    min({{ row_struct(ordering + columns) }})
{%- endmacro %}
{% macro last_row(ordering, columns) -%}
    max({{ row_struct(ordering + columns) }})
{%- endmacro %}
{% macro row_struct(columns) -%}
    {{ return(adapter.dispatch('row_struct', 'touchline')(columns)) }}
{%- endmacro %}
{% macro duckdb__row_struct(columns) -%}
    struct_pack({% for column in columns %}{{ column.split('.')[-1] }} := {{ column }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
{% macro default__row_struct(columns) -%}
    named_struct({% for column in columns %}'{{ column.split('.')[-1] }}', {{ column }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}
