-- DESIGN invariant: funnel counts never increase from one stage to the next (both funnel marts).
{% for mart in ['mart_stage_funnel', 'mart_stage_funnel_trend'] %}
select '{{ mart }}' as mart, entry_period, breakdown, breakdown_value, journey_stage, people_reached, previous_reached
from (
    select
        *,
        lag(people_reached) over (
            partition by entry_period, breakdown, breakdown_value order by stage_order
        ) as previous_reached
    from {{ ref(mart) }}
) as funnel
where people_reached > previous_reached or people_reached > people_entered
{% if not loop.last %}union all{% endif %}
{% endfor %}
