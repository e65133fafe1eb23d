{{ config(meta={'dagster': {'ref': {'name': 'mart_lifecycle'}}}) }}
-- At every period end each known person is in exactly one lifecycle state.
with states as (
    select period_start, sum(people) as people
    from {{ ref('mart_lifecycle') }}
    where measure = 'lifecycle_state'
    group by period_start
)

select states.*
from states
where people <> (select count(*) from {{ ref('dim_people') }})
