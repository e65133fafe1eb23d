-- depends_on: {{ ref('inc_changed_files') }}
-- depends_on: {{ ref('fct_touchpoints') }}
-- depends_on: {{ ref('fct_ad_spend') }}
-- depends_on: {{ ref('quarantine') }}
-- The file versions this build read: the next incremental build compares the lake with it
-- (inc_changed_files). Built last, after the incremental models that applied the change sets: a
-- build that fails before it (or a subset build without it) leaves the previous version, so the
-- next build rebuilds those files again rather than missing them.
select * from {{ ref('inc_lake_file_versions') }}
