{#- The lifecycle state of a person (stranger -> visitor -> lead -> customer -> fan), defined once
    for dim_people (now) and mart_lifecycle (at each period end). Arguments are SQL booleans /
    expressions evaluated at the moment of interest. -#}
{% macro lifecycle_state(has_appeared, is_lead, is_customer, has_referred, latest_nps) -%}
    case
        when not ({{ has_appeared }}) then 'stranger'
        when ({{ is_customer }}) and (({{ has_referred }}) or coalesce({{ latest_nps }}, -1) >= 9) then 'fan'
        when ({{ is_customer }}) then 'customer'
        when ({{ is_lead }}) then 'lead'
        else 'visitor'
    end
{%- endmacro %}
