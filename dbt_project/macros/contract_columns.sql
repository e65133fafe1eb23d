{#- The model's columns, in the order its YAML (generated from ingestion/schema.py) lists them. -#}
{% macro contract_columns(indent=8) -%}
    {%- for name in model.columns -%}
        {{ name }}{% if not loop.last %},
{{ ' ' * indent }}{% endif %}
    {%- endfor -%}
{%- endmacro %}
