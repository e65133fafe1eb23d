-- depends_on: {{ ref('stg_lake__identity_map') }}
-- The touchpoint ids whose row in int_touchpoints_resolved (a row of the fct_touchpoints view) this build
-- recomputes (from every delivery of the id in the lake, as a full rebuild would):
-- - delivered in a changed file (inc_changed_files): the first delivery may be a new one;
-- - first delivered, as the warehouse holds it, in a changed file or a file version no longer in
--   the lake: the first delivery moves to another file, or the id is gone (then deleted);
-- - resolved to another person now: identity_map changed (a new link merged two people), so the
--   touchpoint's person_key or referrer_person_key differs, whatever file it came from.
-- Empty on a full refresh or a first build.
{%- set previous = previous_relation('int_touchpoints_resolved') %}
with lake_files as (
    select source_file, batch_id from {{ ref('inc_lake_file_versions') }} where lake_table = 'touchpoints'
),

changed_files as (
    select source_file from {{ ref('inc_changed_files') }} where lake_table = 'touchpoints'
),

delivered as (
    select touchpoint_id, 'delivered in a changed file' as reason
    from {{ ref('stg_lake__touchpoints') }}
    semi join changed_files using (source_file)
)
{%- if previous is not none %},

-- read twice: from the lake each time, not copied first (macros/dialect.sql: inlined)
identity_map as {{ inlined() }} (
    select * from {{ ref('stg_lake__identity_map') }}
),

first_delivery_moved as (
    select previous.touchpoint_id, 'first delivery changed or gone' as reason
    from {{ previous }} as previous
    anti join lake_files using (source_file, batch_id)

    union all

    select previous.touchpoint_id, 'first delivery changed or gone' as reason
    from {{ previous }} as previous
    semi join changed_files using (source_file)
),

-- the person and the referrer, each compared where it can differ: the referrer only on the rows
-- that name one (about 1 in 1,000; without a referrer key both are null), so that only the
-- person's join probes every previous row (int_touchpoints_resolved resolves them the same way)
resolved_differently as (
    select previous.touchpoint_id, 'person resolved differently' as reason
    from {{ previous }} as previous
    left join identity_map on previous.source_person_key = identity_map.alias_key
    where previous.person_key is distinct from coalesce(identity_map.person_key, previous.source_person_key)

    union all

    select previous.touchpoint_id, 'person resolved differently' as reason
    from {{ previous }} as previous
    left join identity_map on previous.source_referrer_person_key = identity_map.alias_key
    where (previous.source_referrer_person_key is not null or previous.referrer_person_key is not null)
        and previous.referrer_person_key is distinct from coalesce(identity_map.person_key, previous.source_referrer_person_key)
)
{%- endif %}

select touchpoint_id, min(reason) as reason
from (
    select * from delivered
    {%- if previous is not none %}
    union all select * from first_delivery_moved
    union all select * from resolved_differently
    {%- endif %}
)
group by touchpoint_id
