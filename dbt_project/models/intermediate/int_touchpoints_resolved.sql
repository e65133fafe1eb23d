{{ config(
    materialized='incremental',
    unique_key='touchpoint_id',
    changed_keys='inc_changed_touchpoints',
) }}
-- depends_on: {{ ref('inc_changed_touchpoints') }}
-- depends_on: {{ ref('inc_touchpoint_files') }}
-- depends_on: {{ ref('inc_changed_people') }} (which reads this table as the previous build left it)
-- One row per touchpoint_id, keyed by the resolved person: a re-delivered export (same vendor
-- record keys) adds nothing, the first delivery wins (earliest ingestion, then file path, then row
-- number); an anonymous click, a CRM contact and a survey answer tied together by a click id or
-- contact id count as one person (identity_map).
-- Incremental: only the ids of inc_changed_touchpoints, each from every delivery of it in the lake.
-- An incremental build reads only the files of inc_touchpoint_files (every delivery of a changed id
-- that can come first now): a few rows, computed once; a full build reads the lake in each pass.
with deliveries as {{ materialized() if is_incremental() else inlined() }} (
    select * from {{ ref('stg_lake__touchpoints') }} as lake_rows
    {{ changed_keys_only() }}
    {{ touchpoint_files_only('lake_rows', is_incremental()) }}
),

-- ranking only the ids delivered more than once: a window over every delivery would sort them all
redelivered as (
    select touchpoint_id from deliveries group by touchpoint_id having count(*) > 1
),

ranked as (
    select
        *,
        row_number() over (
            partition by touchpoint_id
            order by ingested_at, source_file, source_row
        ) as delivery_rank
    from deliveries
    semi join redelivered using (touchpoint_id)
),

first_deliveries as (
    select * from deliveries anti join redelivered using (touchpoint_id)
    union all
    select {{ star_except(['delivery_rank']) }} from ranked where delivery_rank = 1
),

-- read twice: from the lake each time, not copied first (macros/dialect.sql: inlined)
identity_map as {{ inlined() }} (
    select * from {{ ref('stg_lake__identity_map') }}
),

-- only the aliases some delivery names as its referrer (about 1 touchpoint in 1,000 names one):
-- a second hash table of every alias cost as much memory as the person join's own
referrer_map as (
    select identity_map.*
    from identity_map
    semi join (
        select source_referrer_person_key as alias_key from deliveries
        where source_referrer_person_key is not null
    ) as referrers using (alias_key)
),

resolved as (
    select
        first_deliveries.*,
        coalesce(person_map.person_key, first_deliveries.source_person_key) as person_key,
        coalesce(referrer_map.person_key, first_deliveries.source_referrer_person_key) as referrer_person_key
    from first_deliveries
    left join identity_map as person_map
        on first_deliveries.source_person_key = person_map.alias_key
    left join referrer_map
        on first_deliveries.source_referrer_person_key = referrer_map.alias_key
)

select * from resolved
