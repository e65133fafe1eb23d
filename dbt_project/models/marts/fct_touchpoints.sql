{{ config(
    materialized='incremental',
    unique_key='touchpoint_id',
    changed_keys='inc_changed_touchpoints',
) }}
-- depends_on: {{ ref('inc_changed_touchpoints') }}
-- The touchpoint fact table analysts query: exactly the canonical columns (contract enforced,
-- listed in _fct_touchpoints.yml, which `touchline codegen` writes from ingestion/schema.py).
-- Incremental: the ids of inc_changed_touchpoints are replaced (models/incremental/ says which).
with touchpoints as (
    select * from {{ ref('int_touchpoints_resolved') }}
    {{ changed_keys_only() }}
),

final as (
    select
        {{ contract_columns() }}
    from touchpoints
)

select * from final
