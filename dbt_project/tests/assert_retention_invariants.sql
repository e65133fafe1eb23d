-- DESIGN invariants: retention at offset 0 is 1.0 (for purchases, which define the cohort, and
-- any touchpoint, which includes them); cohort size is the same at every offset.
with cohorts as (
    select * from {{ ref('mart_retention_cohorts') }}
),

offset_zero_not_full as (
    select activity_kind, breakdown, breakdown_value, cohort_period, 'offset 0 retention is not 1.0' as problem
    from cohorts
    where period_offset = 0 and retention_rate <> 1.0
),

size_changes as (
    select activity_kind, breakdown, breakdown_value, cohort_period, 'cohort size changes across offsets' as problem
    from cohorts
    group by activity_kind, breakdown, breakdown_value, cohort_period
    having min(cohort_size) <> max(cohort_size)
)

select * from offset_zero_not_full
union all
select * from size_changes
