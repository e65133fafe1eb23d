{#- numerator / denominator, null (not infinity, not an error) when the denominator is 0 or null.
    The metric definitions (ROAS, CPA, CAC, rates) are written with it. -#}
{% macro ratio(numerator, denominator) -%}
    case when {{ denominator }} = 0 then null else ({{ numerator }}) / ({{ denominator }}) end
{%- endmacro %}
