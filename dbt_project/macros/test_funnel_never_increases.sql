{#- Rows of a funnel mart where a stage has more people than the one before it (or than entered). -#}
{% macro funnel_increases(mart) %}
select entry_period, breakdown, breakdown_value, journey_stage, people_reached, previous_reached
from (
    select
        *,
        lag(people_reached) over (
            partition by entry_period, breakdown, breakdown_value order by stage_order
        ) as previous_reached
    from {{ ref(mart) }}
) as funnel
where people_reached > previous_reached or people_reached > people_entered
{% endmacro %}
