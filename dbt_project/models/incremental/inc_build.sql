-- depends_on: {{ ref('inc_lake_files') }}
-- The dbt project this build ran: orchestration/dbt.py compares it with the current project before
-- a night and rebuilds everything when they differ. Built after the ledger, so a build that
-- stopped before it keeps the previous fingerprint (then the next night rebuilds whole if the
-- project changed, as it should).
select cast('{{ var("project_fingerprint", "") }}' as {{ string_type() }}) as project_fingerprint
