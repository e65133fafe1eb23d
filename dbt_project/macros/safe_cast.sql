{#- dbt.safe_cast on DuckDB compiles to a plain cast that errors on bad values; use try_cast. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
