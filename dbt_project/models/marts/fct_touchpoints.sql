{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed',
    unique_key='touchpoint_id',
    changed_keys='inc_changed_touchpoints',
    on_schema_change='fail',
) }}
-- depends_on: {{ ref('inc_changed_touchpoints') }}
-- The touchpoint fact table analysts query: exactly the canonical columns (contract enforced,
-- listed in _fct_touchpoints.yml, which `touchline codegen` writes from ingestion/schema.py).
-- Incremental: the ids of inc_changed_touchpoints are replaced (models/incremental/ says which).
with touchpoints as (
    select * from {{ ref('int_touchpoints_resolved') }}
    {%- if is_incremental() %}
    semi join {{ ref('inc_changed_touchpoints') }} as changed using (touchpoint_id)
    {%- endif %}
),

final as (
    select
        {{ contract_columns() }}
    from touchpoints
)

select * from final
