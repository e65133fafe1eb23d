-- DESIGN invariant: no touchpoint happens after it was ingested.
select * from {{ ref('fct_touchpoints') }} where occurred_at > ingested_at
