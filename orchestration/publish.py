"""`warehouse/published`: the staging warehouse dbt built becomes the one analysts read.

Downstream of every dbt asset, so Dagster skips it when a blocking check stopped dbt or when dbt
failed (a model error, or a test of severity error: `dbt build` exits non-zero and the dbt step
fails). It also refuses by itself if any check of this run failed with severity ERROR, so a
non-blocking ERROR check cannot slip through either. touchline/publish.py does the file work.

Retries: publishing is idempotent up to its one `os.replace` (checkpoint, checksum and rename of
the same staging file), so a failure before the rename is safe to retry: another process holding
the staging or published file open may have let go (PublishError.retryable), or an I/O error on
a network file system may pass. Failures that cannot change on a retry (failed checks, no staging
build, a catalog mismatch) are raised as failures Dagster does not retry. After the rename only
the folder fsync is left; if that failed, a retry would find no staging file and fail with that
message while the new warehouse is already in place.

The dbt step has no retry policy: it reads and writes local files only (the lake, the staging
file), and what makes it fail (a model error, a failed dbt test) fails the same way again, after
rebuilding every mart each time.
"""

import json
from datetime import UTC, datetime

import dagster as dg

from orchestration.resources import TouchlineResource
from touchline.publish import PublishError, publish

PUBLISHED = dg.AssetKey(["warehouse", "published"])


def _failed_error_checks(context: dg.AssetExecutionContext) -> list[str]:
    records = context.instance.get_records_for_run(context.run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    failed = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            failed.append(dg.AssetCheckKey(evaluation.asset_key, evaluation.check_name).to_user_string())
    return failed


def _built_at(context: dg.AssetExecutionContext, dbt_keys: list[dg.AssetKey]) -> dict[str, str]:
    """When each table in the file being published was built: this run, or (a subset build that
    started from a copy of the published file) whenever the previous publication says."""
    previous = context.instance.get_latest_materialization_event(PUBLISHED)
    built: dict[str, str] = {}
    if previous is not None and previous.asset_materialization is not None:
        value = previous.asset_materialization.metadata.get("built_at")
        built.update(value.value if value is not None else {})
    records = context.instance.get_records_for_run(context.run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    wanted = set(dbt_keys)
    for record in records:
        key = record.event_log_entry.dagster_event.asset_key
        if key in wanted:
            built[key.to_user_string()] = datetime.fromtimestamp(record.event_log_entry.timestamp, UTC).isoformat()
    return dict(sorted(built.items()))


def build_publish_asset(dbt_assets: dg.AssetsDefinition) -> dg.AssetsDefinition:
    dbt_keys = sorted(dbt_assets.keys, key=lambda k: k.to_user_string())

    @dg.asset(
        key=PUBLISHED,
        deps=dbt_keys,
        group_name="warehouse",
        owners=["team:data-platform"],
        kinds={"duckdb"},
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),  # after 5 s, then 10 s
        description="The DuckDB file analysts read (TOUCHLINE_WAREHOUSE). Replaced in one atomic rename by the "
                    "staging file dbt built, only when every blocking check and every dbt test passed; "
                    "a failed night leaves it untouched.",
    )
    def published_warehouse(context: dg.AssetExecutionContext, touchline: TouchlineResource) -> dg.MaterializeResult:
        failed = _failed_error_checks(context)
        if failed:
            raise dg.Failure(f"not publishing: checks failed with severity ERROR in this run: {', '.join(failed)}",
                             allow_retries=False)
        settings = touchline.settings()
        built_at = _built_at(context, dbt_keys)
        try:
            result = publish(settings)
        except PublishError as exc:
            raise dg.Failure(description=str(exc), allow_retries=exc.retryable) from None
        context.log.info(f"published {result.path} ({result.size_bytes:,} bytes, sha256 {result.sha256[:12]})")
        return dg.MaterializeResult(metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "size_bytes": result.size_bytes,
            "sha256": result.sha256,
            "tables": len(result.tables),
            "views": result.views,
            "rows": dg.MetadataValue.json(result.rows),
            "built_at": dg.MetadataValue.json(built_at),
        })

    return published_warehouse


def published_built_at(instance: dg.DagsterInstance) -> dict[str, datetime]:
    """Build time of each table in the published warehouse, from its latest publication."""
    event = instance.get_latest_materialization_event(PUBLISHED)
    if event is None or event.asset_materialization is None:
        return {}
    value = event.asset_materialization.metadata.get("built_at")
    raw = value.value if value is not None else {}
    if isinstance(raw, str):
        raw = json.loads(raw)
    return {name: datetime.fromisoformat(ts) for name, ts in raw.items()}
