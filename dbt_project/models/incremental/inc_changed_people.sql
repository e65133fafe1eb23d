-- depends_on: {{ ref('inc_changed_touchpoints') }}
-- depends_on: {{ ref('inc_touchpoint_files') }}
-- depends_on: {{ ref('stg_lake__touchpoints') }}
-- depends_on: {{ ref('stg_lake__identity_map') }}
-- The people whose rows in the person-level models (int_touchpoints_staged, int_people_activity, int_people_periods,
-- int_funnel_person_stages, int_survey_answers, int_attribution_conversions / _journeys / _paths / _journey_paths) this build
-- recomputes, from all their touchpoints: everyone who holds a touchpoint of
-- inc_changed_touchpoints, as the warehouse holds it (it may have moved to another person or be
-- gone) or as the lake delivers it now. A person's rows there depend on their own
-- touchpoints only (window functions partitioned by person_key), so nobody else's can change.
-- Built before int_touchpoints_resolved replaces those touchpoints. Empty on a full refresh or a
-- first build.
{%- set previous = previous_relation('int_touchpoints_resolved') %}
{%- if not has_previous_build() %}
select cast(null as {{ string_type() }}) as person_key, cast(null as {{ string_type() }}) as reason
from {{ ref('inc_changed_touchpoints') }}
where false
{%- else %}
with changed as (
    select touchpoint_id from {{ ref('inc_changed_touchpoints') }}
),

identity_map as (
    select * from {{ ref('stg_lake__identity_map') }}
),

-- every delivery of a changed id, resolved as int_touchpoints_resolved resolves the first one
delivered as (
    select distinct coalesce(identity_map.person_key, deliveries.source_person_key) as person_key,
        'holds a new or changed touchpoint' as reason
    from {{ ref('stg_lake__touchpoints') }} as deliveries
    semi join changed using (touchpoint_id)
    left join identity_map on deliveries.source_person_key = identity_map.alias_key
    {{ touchpoint_files_only('deliveries', previous is not none) }}
)
{%- if previous is not none %},

held as (
    select distinct previous.person_key, 'held a changed, moved or removed touchpoint' as reason
    from {{ previous }} as previous
    semi join changed using (touchpoint_id)
)
{%- endif %}

select person_key, min(reason) as reason
from (
    select * from delivered
    {%- if previous is not none %}
    union all select * from held
    {%- endif %}
)
group by person_key
{%- endif %}
