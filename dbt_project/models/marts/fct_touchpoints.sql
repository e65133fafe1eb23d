{{ config(materialized='view') }}
-- The touchpoint fact table analysts query: exactly the canonical columns (contract enforced,
-- listed in _fct_touchpoints.yml, which `touchline codegen` writes from ingestion/schema.py).
-- A view of int_touchpoints_resolved without the ingested person keys (source_person_key,
-- source_referrer_person_key, which the change sets need): a table here would be a third copy of
-- every touchpoint, about 10 s of a full build at 9.3 M rows (README "Benchmark"), and reading the
-- view costs what reading the table did (columnar storage: the two columns left out are not read).
-- Incremental through int_touchpoints_resolved (models/incremental/ says what a night replaces).
with touchpoints as (
    select * from {{ ref('int_touchpoints_resolved') }}
),

final as (
    select
        {{ contract_columns() }}
    from touchpoints
)

select * from final
