{#- Join target for converting amounts: rates valid on a date, as reporting-currency per unit.
    Usage: left join {{ ref('int_currency_rates') }} as rates on {{ currency_rate_match('rates', 'x.currency', 'x.some_date') }} -#}
{% macro currency_rate_match(rates, currency, on_date) -%}
    {{ rates }}.currency = {{ currency }}
    and {{ on_date }} >= {{ rates }}.valid_from
    and ({{ rates }}.valid_to is null or {{ on_date }} < {{ rates }}.valid_to)
{%- endmacro %}
