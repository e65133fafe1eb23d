-- Deduplicated touchpoints keyed by the resolved person: an anonymous click, a CRM contact and a
-- survey answer tied together by a click id or contact id count as one person (identity_map).
with touchpoints as (
    select * from {{ ref('int_touchpoints_deduplicated') }}
),

identity_map as (
    select * from {{ ref('stg_lake__identity_map') }}
),

resolved as (
    select
        touchpoints.*,
        coalesce(person_map.person_key, touchpoints.source_person_key) as person_key,
        coalesce(referrer_map.person_key, touchpoints.source_referrer_person_key) as referrer_person_key
    from touchpoints
    left join identity_map as person_map
        on touchpoints.source_person_key = person_map.alias_key
    left join identity_map as referrer_map
        on touchpoints.source_referrer_person_key = referrer_map.alias_key
)

select * from resolved
