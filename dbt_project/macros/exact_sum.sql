{#- Sums and means of fractional numbers that do not depend on thread scheduling.

    DuckDB adds the doubles of a group in whatever order its threads hand over their partial
    results, and floating-point addition is not associative: sum(x) or avg(x) of a double could
    differ in the last digit between two builds over the same rows (seen on dim_people's
    lifetime revenue and on spend per campaign). These add as DECIMAL(38, scale) instead, where
    addition is exact and the order cannot matter, and return a double. Each value is rounded to
    `scale` decimals first (9: a billionth of a cent, of a conversion, of an hour), far below
    anything the marts report or their tests tolerate (1e-6).
    Use them for every sum and mean of amounts, credits and durations in the marts. -#}
{% macro exact_sum(expression, scale=9) -%}
    cast(sum(cast({{ expression }} as decimal(38, {{ scale }}))) as double)
{%- endmacro %}

{% macro exact_avg(expression, scale=9) -%}
    cast(avg(cast({{ expression }} as decimal(38, {{ scale }}))) as double)
{%- endmacro %}
