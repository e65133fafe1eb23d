-- The touchpoint fact table analysts query: exactly the canonical columns (contract enforced,
-- listed in _fct_touchpoints.yml, which `touchline codegen` writes from ingestion/schema.py).
with touchpoints as (
    select * from {{ ref('int_touchpoints_resolved') }}
),

final as (
    select
        {{ contract_columns() }}
    from touchpoints
)

select * from final
