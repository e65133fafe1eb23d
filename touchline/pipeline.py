"""Run the whole asset graph once (what `make run` and the nightly schedule do) and summarize it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from rich.console import Console
from rich.table import Table

from ingestion.landing import DayBounds
from touchline.analyst import mart_row_counts
from touchline.report import CheckResult, check_result, step_failure
from touchline.settings import Settings


@dataclass
class RunOutcome:
    run_id: str
    run_success: bool
    warehouse: str
    checks: list[CheckResult] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    skipped_assets: list[str] = field(default_factory=list)
    mart_rows: dict[str, int] = field(default_factory=dict)
    ingest_totals: dict[str, int] = field(default_factory=dict)
    published: bool = False  # this run replaced the warehouse analysts read
    quality_report: str | None = None  # Markdown report of the ingestion (touchline/quality_report.py)
    report: str | None = None
    report_error: str | None = None

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    @property
    def blocking_failures(self) -> list[CheckResult]:
        return [c for c in self.failed_checks if c.severity == "ERROR"]

    @property
    def success(self) -> bool:
        return self.run_success and not self.blocking_failures and not self.failed_steps and self.published

    def print(self, console: Console) -> None:
        table = Table(title="Marts", show_edge=False)
        table.add_column("table")
        table.add_column("rows", justify="right")
        for name, rows in self.mart_rows.items():
            table.add_row(name, f"{rows:,}")
        console.print(table)
        if self.ingest_totals:
            t = self.ingest_totals
            console.print(f"Ingestion: {t.get('rows_read', 0):,} rows read from {t.get('files', 0)} files = "
                          f"{t.get('rows_loaded', 0):,} loaded + {t.get('rows_quarantined', 0):,} quarantined + "
                          f"{t.get('duplicates_dropped', 0):,} exact duplicates; "
                          f"{t.get('files_skipped', 0):,} unchanged files skipped")
            if t.get("files_missing"):
                console.print(f"  [yellow]{t['files_missing']:,} files in the lake are no longer in the landing zone[/yellow]: "
                              "their rows are kept (see the quality report; `touchline run --full-refresh` removes them)")
            if t.get("files_removed"):
                console.print(f"  [yellow]full refresh removed {t['files_removed']:,} files no longer in the landing zone "
                              "from the lake[/yellow]")
        if self.quality_report:
            console.print(f"Quality report: {self.quality_report}")
        passed = len(self.checks) - len(self.failed_checks)
        console.print(f"Checks: {passed} passed, {len(self.failed_checks)} failed")
        for c in self.failed_checks:
            console.print(f"  [red]FAILED[/red] {c.name} ({c.severity}): {c.description}")
        for step in self.failed_steps:
            console.print(f"  [red]FAILED STEP[/red] {step}")
        if self.skipped_assets:
            console.print(f"Not built because an upstream check or step failed: {', '.join(self.skipped_assets)}")
        if self.published:
            console.print(f"Warehouse: {self.warehouse} (published by this run)")
        else:
            console.print(f"Warehouse: {self.warehouse} [red]NOT published by this run[/red]: analysts still read the previous good build"
                          + ("" if self.mart_rows else " (there is none yet)"))
        if self.report:
            console.print(f"Report: {self.report}")
        if self.report_error:
            console.print(f"[yellow]The nightly report could not be written: {self.report_error}[/yellow]")
        console.print(f"Dagster run {self.run_id}; open the UI with `make ui` (http://127.0.0.1:3000).")
        console.print("[green]OK[/green]" if self.success else "[red]FAILED[/red]: see above")


def run_pipeline(settings: Settings, *, full_refresh: bool = False, days: DayBounds | None = None,
                 rebuild_days: bool = False) -> RunOutcome:
    """One run of nightly_job over `days` (first, last landing day: its daily partitions), by default
    every day with landed files or files in the lake. Ingestion reads only the new or changed files
    of those days unless `full_refresh` (or TOUCHLINE_FULL_REFRESH) asks it to read them all again
    (ingestion/run.py); dbt then builds incrementally, or everything again on a full refresh.
    `rebuild_days` (a backfill): dbt also recomputes every row of those days (orchestration/dbt.py)."""
    defs = _prepare(settings)
    from orchestration.definitions import contracts, daily
    from orchestration.normalize import FULL_REFRESH_TAG, REBUILD_DAYS_TAG
    from orchestration.partitions import landed_window, range_tags

    days = days or landed_window(settings.landing, settings.lake, contracts, daily, settings.quality.as_of())
    tags = range_tags(days) | ({FULL_REFRESH_TAG: "true"} if full_refresh or settings.full_refresh else {}) \
        | ({REBUILD_DAYS_TAG: "true"} if rebuild_days else {})
    return _execute(settings, defs, tags)


def run_scheduled(settings: Settings, tick: datetime) -> RunOutcome:
    """The run of nightly_job that the nightly schedule's tick at `tick` requests: yesterday's
    partition in the schedule's time zone and any earlier day with new or re-delivered files
    (orchestration/jobs.py: nightly_days), with the schedule's tags. `touchline bench` times a
    night with it."""
    defs = _prepare(settings)
    from orchestration.definitions import contracts, daily
    from orchestration.jobs import SCHEDULED, nightly_days
    from orchestration.partitions import range_tags

    days = nightly_days(tick, settings.schedule.timezone, contracts, daily)
    return _execute(settings, defs, range_tags(days) | SCHEDULED)


def _execute(settings: Settings, defs, tags: dict[str, str]) -> RunOutcome:
    import dagster as dg

    job = defs.resolve_job_def("nightly_job")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=RUN_CONFIG, tags=tags)
    return _outcome(settings, defs, result)


def rerun_from_failure(settings: Settings, run_id: str) -> RunOutcome:
    """Re-execute a failed run of nightly_job from its failed steps (what the UI's "Re-execute from
    failure" does): the steps that succeeded are not run again, the run's days and full-refresh tag
    are kept. Raises RerunError when the run is unknown, not nightly_job's, or did not fail."""
    import dagster as dg

    defs = _prepare(settings)
    from orchestration.definitions import nightly_job_definition
    from orchestration.normalize import FULL_REFRESH_TAG, REBUILD_DAYS_TAG

    with dg.DagsterInstance.get() as instance:
        parent = instance.get_run_by_id(run_id)
        if parent is None:
            raise RerunError(f"no run {run_id!r} in the Dagster instance {settings.dagster_home}")
        if parent.job_name != "nightly_job":
            raise RerunError(f"run {run_id} is a run of {parent.job_name}, not nightly_job: re-execute it from the UI")
        if parent.status != dg.DagsterRunStatus.FAILURE:
            raise RerunError(f"run {run_id} did not fail (status {parent.status.value}): there is nothing to re-execute")
        failed = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        if not failed:
            raise RerunError(f"run {run_id} failed before any step ran (see it in the UI): start a new run instead")
        kept = {k: v for k, v in parent.tags.items()
                if k.startswith("dagster/asset_partition") or k in ("dagster/partition", FULL_REFRESH_TAG, REBUILD_DAYS_TAG)}
        result = dg.execute_job(dg.reconstructable(nightly_job_definition), instance, run_config=RUN_CONFIG, tags=kept,
                                reexecution_options=dg.ReexecutionOptions.from_failure(run_id, instance), raise_on_error=False)
    return _outcome(settings, defs, result)


class RerunError(Exception):
    """A run cannot be re-executed; the message says why."""


RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def _prepare(settings: Settings):
    """Environment, instance config and dbt manifest ready; the Dagster definitions."""
    settings.ensure_dirs()
    settings.export()
    from orchestration.dbt import prepare_manifest

    prepare_manifest()  # re-parses when a model changed since the last parse
    from orchestration.definitions import defs

    return defs


def _outcome(settings: Settings, defs, result) -> RunOutcome:
    from orchestration.normalize import QUALITY_REPORT
    from orchestration.publish import PUBLISHED

    outcome = RunOutcome(result.run_id, result.success, str(settings.warehouse))
    outcome.checks = [check_result(evaluation) for evaluation in result.get_asset_check_evaluations()]
    outcome.failed_steps = [e.step_key for e in result.get_step_failure_events()]
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    graph = defs.resolve_asset_graph()
    materializable = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    outcome.skipped_assets = sorted(k.to_user_string() for k in materializable - materialized)
    outcome.published = PUBLISHED in materialized
    if QUALITY_REPORT in materialized:
        outcome.quality_report = str(settings.quality_reports_dir / "latest.md")
    outcome.mart_rows = mart_row_counts(settings) if settings.warehouse.exists() else {}
    report = settings.lake / "_reports" / "ingest_latest.json"
    if report.exists():
        outcome.ingest_totals = json.loads(report.read_text()).get("totals", {})
    write_nightly_report(settings, outcome)
    return outcome


def write_nightly_report(settings: Settings, outcome: RunOutcome) -> None:
    """The HTML report next to the warehouse, with this run's checks (also on a blocked night:
    it then shows what broke beside the marts analysts still have)."""
    from touchline.report import ReportInputs, write_report

    if not settings.warehouse.exists():
        outcome.report_error = f"no warehouse at {settings.warehouse} yet"
        return
    checks = outcome.checks + [step_failure(step) for step in outcome.failed_steps]
    try:
        outcome.report = str(write_report(settings, ReportInputs(run_id=outcome.run_id, checks=checks)))
    except Exception as exc:  # the report must never turn a good night into a failed one
        outcome.report_error = f"{type(exc).__name__}: {exc}"
