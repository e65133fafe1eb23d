-- depends_on: {{ ref('inc_changed_touchpoints') }}
-- depends_on: {{ ref('inc_changed_files') }}
-- depends_on: {{ ref('inc_lake_file_versions') }}
-- The landed files that hold every delivery of a changed touchpoint id (inc_changed_touchpoints)
-- that can be its first delivery now: inc_changed_people and int_touchpoints_resolved read only
-- these files of the lake (macro touchpoint_files_only), not all of it.
-- A file this build does not rebuild holds the deliveries it held at the previous build, and there
-- the id's first delivery (as int_touchpoints_resolved holds it: source_file, batch_id) came before
-- every other. So while that first delivery is still in the lake, unchanged, the first delivery now
-- is either it or one in a changed file: the changed files and the files of those first deliveries
-- hold every candidate. An id new to the warehouse has no delivery in an unchanged file (it would
-- have been in the warehouse). When a changed id's first delivery is in a changed file or one gone
-- from the lake, an earlier runner-up anywhere may come first now: a row with reason 'whole lake',
-- and the lake is read whole, as before.
-- Empty on a full refresh or a first build (the models then read the whole lake anyway).
{%- set previous = previous_relation('int_touchpoints_resolved') %}
with changed_files as (
    select source_file from {{ ref('inc_changed_files') }} where lake_table = 'touchpoints'
)
{%- if previous is not none %},

lake_files as (
    select source_file, batch_id from {{ ref('inc_lake_file_versions') }} where lake_table = 'touchpoints'
),

first_deliveries as (
    select distinct previous.source_file, previous.batch_id
    from {{ previous }} as previous
    semi join {{ ref('inc_changed_touchpoints') }} as changed using (touchpoint_id)
),

moved as (
    select first_deliveries.source_file
    from first_deliveries
    where first_deliveries.source_file in (select source_file from changed_files)
        or not exists (
            select 1 from lake_files
            where lake_files.source_file = first_deliveries.source_file
                and lake_files.batch_id = first_deliveries.batch_id
        )
)
{%- endif %}

select source_file, {{ arg_min('reason', 'priority') }} as reason
from (
    select source_file, 'changed file' as reason, 2 as priority from changed_files
    {%- if previous is not none %}
    union all
    select source_file, 'first delivery of a changed id' as reason, 3 as priority from first_deliveries
    union all
    select source_file, 'whole lake' as reason, 1 as priority from moved
    {%- endif %}
) as files
group by source_file
{% if not has_previous_build() %}having false{% endif %}
