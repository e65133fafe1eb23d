-- DESIGN invariant: funnel counts never increase from one stage to the next.
with funnel as (
    select
        *,
        lag(people_reached) over (
            partition by entry_period, breakdown, breakdown_value order by stage_order
        ) as previous_reached
    from {{ ref('mart_stage_funnel') }}
)

select *
from funnel
where people_reached > previous_reached or people_reached > people_entered
