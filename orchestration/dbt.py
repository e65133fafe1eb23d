"""The dbt project as Dagster assets (dagster-dbt); dbt tests become asset checks.

dbt builds the staging warehouse (settings.staging_warehouse, via TOUCHLINE_DBT_WAREHOUSE in
profiles.yml), never the file analysts read: orchestration/publish.py publishes it afterwards."""

import fcntl
import json
import shutil
import sys
from collections.abc import Mapping
from datetime import date
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.storage.tags import BACKFILL_ID_TAG
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from orchestration.builds import full_rebuild_reason, project_files, project_fingerprint
from orchestration.normalize import IDENTITY_MAP, rebuilds_days
from orchestration.partitions import days_of_run
from orchestration.resources import TouchlineResource
from touchline import settings
from touchline.publish import prepare_staging
from touchline.settings import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")

GROUPS = {"staging": "warehouse", "intermediate": "warehouse", "marts": "marts", "quality": "quality"}

class TouchlineDbtTranslator(DagsterDbtTranslator):
    """Groups by layer folder; everything else as dagster-dbt does it."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "mappings"
        folder = dbt_resource_props.get("fqn", ["", ""])[1]
        return GROUPS.get(folder, "warehouse")

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:analytics-engineering"]

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        """dbt's roots (the seeds: mappings and currency rates) come after the lake: the warehouse is
        built in one `dbt build` once ingestion is done. Without this, a backfill from the UI builds
        the seeds in a run of their own while the lake is being ingested, and then the rest in another
        run that starts from a fresh staging file, without them."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] in ("seed", "model", "snapshot") and not props.get("depends_on", {}).get("nodes"):
            spec = spec.replace_attributes(deps=[*spec.deps, dg.AssetDep(IDENTITY_MAP)])
        return spec

class TouchlineDbtCli(DbtCliResource):
    """dagster-dbt as it is, except that it does not start `dbt --version` (a Python process: seconds)
    before a resource's first command to learn the version: the dbt we run is this environment's."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    return TouchlineDbtCli(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE))


def _manifest_is_stale() -> bool:
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    return max(p.stat().st_mtime for p in project_files()) > manifest.stat().st_mtime


def prepare_manifest() -> None:
    """`dbt parse` when the manifest is older than the project (dagster-dbt loads assets from it).

    A file lock keeps concurrent processes (test workers, a UI and a run) from parsing into the
    same target folder at once."""
    lock_path = dbt_project.project_dir / dbt_project.target_path / ".parse.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _manifest_is_stale():
            dbt_resource().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()


settings.load().export()  # profiles.yml and the sources read the paths from the environment
prepare_manifest()

@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=TouchlineDbtTranslator())
def touchline_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, touchline: TouchlineResource):
    # A night builds incrementally on a copy of the published file, with the run's days as the
    # window; a full refresh starts from an empty staging file (touchline/publish.py says why).
    s = touchline.settings()
    why_whole = full_rebuild_reason(s, context.run.tags)  # the lake checks ask the same (orchestration/builds.py)
    full_refresh = why_whole is not None
    if full_refresh:
        context.log.info(f"{why_whole}: this build is a full rebuild")
    fingerprint = project_fingerprint()
    context.log.info(start_staging(s, context, full_refresh=full_refresh))
    args = build_args(days_of_run(context) if rebuilds_days(context.run.tags) else None, full_refresh=full_refresh,
                      fingerprint=fingerprint)
    context.log.info(f"dbt {' '.join(args)}")
    # The target folder persists (settings.dbt_target_dir): dagster-dbt copies the project's
    # partial_parse.msgpack into a run's target only when it has none, and the project's comes from
    # `dbt parse` with other vars and another profile (warehouse path), which dbt answers with a
    # full re-parse. Kept, the previous night's is reused: only changed files are parsed again.
    # dagster-dbt's fetch_row_counts() queries the file while `dbt build` still holds it (DuckDB
    # has one writer): the events are kept until dbt is done, then each table's row count and
    # column types are read from the staging file, read-only, and attached to its materialization.
    # When dbt fails (a model error, a failed test), the events before the failure (the failed
    # test's check result among them) are still reported, then the failure is raised.
    events, failure = [], None
    try:
        for event in dbt.cli(args, context=context, target_path=s.dbt_target_dir).stream():
            events.append(event)
    except Exception as exc:  # re-raised below, after the events
        failure = exc
    described = describe_tables(s.staging_warehouse)
    for event in events:
        if isinstance(event, (dg.Output, dg.AssetMaterialization)):
            key = event.asset_key if isinstance(event, dg.AssetMaterialization) else context.asset_key_for_output(event.output_name)
            extra = described.get(key.path[-1])
            yield event.with_metadata({**event.metadata, **extra}) if extra else event
        else:
            yield event
    if failure is not None:
        raise failure
    s.staging_owner.write_text(f"{staging_owner(context)}: built")
    if not context.is_subset:
        context.log.info(write_dbt_docs(dbt, s, fingerprint, regenerate=full_refresh))


def start_staging(s: settings.Settings, context: dg.AssetExecutionContext, *, full_refresh: bool) -> str:
    """The staging file this step's `dbt build` writes.

    A backfill from the UI may build the dbt assets in several runs, each a subset (Dagster's asset
    backfill launches assets once their parents are done: a selection whose models wait on different
    parents is split): those runs continue the staging file the backfill's first dbt run started, so
    that each builds on the tables the previous ones just built, and the one with the publish step
    publishes them all. Beside the staging file: its owner (the backfill, or the run) and whether its
    last `dbt build` succeeded. Only a completed build is continued: a re-executed run of a backfill
    whose dbt step failed half-way starts afresh, since a half-applied incremental build would hide
    what changed. Any other run starts afresh too (touchline/publish.py: prepare_staging)."""
    owner = staging_owner(context)
    marker = s.staging_owner
    backfill = context.run.tags.get(BACKFILL_ID_TAG)
    if backfill and context.is_subset and s.staging_warehouse.exists() and marker.exists() and marker.read_text() == f"{owner}: built":
        return f"staging continues the build of {owner}"
    message = prepare_staging(s, from_published=context.is_subset or not full_refresh)
    marker.write_text(f"{owner}: building")
    return message


def staging_owner(context: dg.AssetExecutionContext) -> str:
    backfill = context.run.tags.get(BACKFILL_ID_TAG)
    return f"backfill {backfill}" if backfill else f"run {context.run.run_id}"


def build_args(days: tuple[date, date] | None, *, full_refresh: bool, fingerprint: str) -> list[str]:
    """`dbt build`, with --full-refresh when the run rebuilds everything, and with the landing days
    whose rows every incremental model recomputes whatever changed (vars window_start and window_end)
    when the run is a backfill of those days (`touchline run --from --to`: rebuilds them under the
    current models). Without a window an incremental build recomputes exactly what changed in the
    lake since the published build (models/incremental/): new, re-delivered and removed files, ids
    they touch, people merged, whatever days the run covered. The project's fingerprint is recorded
    in the warehouse (var project_fingerprint, model inc_build).

    dbt's unit tests (the models' SQL on fixed rows; they read no data) run only in a whole build:
    an incremental one builds on a warehouse that this very project built whole, unit tests
    included (a changed project makes the build whole: orchestration/builds.py). The data tests
    run in every build."""
    window = {"window_start": days[0].isoformat(), "window_end": days[1].isoformat()} if days else {}
    return ["build", "--vars", json.dumps({"project_fingerprint": fingerprint, **window}),
            *(["--full-refresh"] if full_refresh else ["--exclude-resource-type", "unit_test"])]


def describe_tables(database: Path) -> dict[str, dict]:
    """Per table or view of the warehouse: its column schema and, when it is counted
    (touchline/analyst.py: is_counted: not the staging views, which read the lake), its row count,
    as Dagster metadata (`dagster/column_schema`, `dagster/row_count`: the UI shows both)."""
    import duckdb

    from touchline.analyst import is_counted

    if not database.exists():
        return {}
    out: dict[str, dict] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        columns: dict[str, list[dg.TableColumn]] = {}
        for table, column, data_type in con.execute(
                "select table_name, column_name, data_type from information_schema.columns "
                "where table_catalog = current_database() order by table_name, ordinal_position").fetchall():
            columns.setdefault(table, []).append(dg.TableColumn(column, data_type))
        for schema, table, kind in con.execute("select table_schema, table_name, table_type from information_schema.tables "
                                               "where table_catalog = current_database()").fetchall():
            out[table] = {"dagster/column_schema": dg.TableSchema(columns=columns.get(table, []))}
            if is_counted(table, kind):
                out[table]["dagster/row_count"] = dg.MetadataValue.int(con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0])
    return out


def write_dbt_docs(dbt: DbtCliResource, s: settings.Settings, fingerprint: str, *, regenerate: bool = False) -> str:
    """`dbt docs generate --static` over the build that just succeeded: one HTML page with the
    manifest and the catalog inside it (no server, no network), written atomically.

    The page describes the project (models, tests, lineage, SQL) and the catalog (each relation's
    columns and types), and both follow from the project's files and dbt's version alone: the page
    is kept while those are unchanged (a fingerprint beside it), which spares a night a dbt command
    of about 20 s of CPU. A full refresh regenerates it."""
    page = s.dbt_docs_dir / "index.html"
    stamp = s.dbt_docs_dir / ".project-fingerprint"
    if not regenerate and page.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return f"dbt docs: {page} kept (the dbt project has not changed since they were generated)"
    target = s.dbt_docs_dir.parent / ".dbt_docs_target"
    dbt.cli(["docs", "generate", "--static"], target_path=target).wait()
    s.dbt_docs_dir.mkdir(parents=True, exist_ok=True)
    tmp = page.with_name(".index.html.tmp")
    shutil.copyfile(target / "static_index.html", tmp)
    tmp.replace(page)
    stamp.write_text(fingerprint)
    return f"dbt docs: {page}"
