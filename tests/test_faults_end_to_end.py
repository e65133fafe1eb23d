"""Faults (issue 8), end to end on a small generated landing zone.

- Nights: the zone delivered a few days at a time, one incremental run per night, gives exactly
  the published tables of one full rebuild over the final zone in a fresh data folder.
- Kill and rerun: a `touchline run` killed with SIGKILL mid-dbt, or mid-ingestion, then run again:
  the rerun is not blocked by the dead run's lock, completes, publishes, duplicates nothing, and
  every published table equals the one of an uninterrupted run over the same zone.

Every comparison is of whole tables, as multisets of rows (`except all` both ways), over every
table and view of the published warehouse's main schema.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.test_pipeline_end_to_end import use_dirs

END = date(2026, 10, 31)
DAYS = 12
NIGHTS = (4, 8, DAYS)  # night k holds the day folders of days 1..NIGHTS[k]

# Columns whose values legitimately differ between two runs over the same files; nothing else may.
RUN_TIME_COLUMNS = {
    "ingested_at",  # wall-clock time the ingestion run normalized a file (lineage, not data)
    "batch_id",  # the id of that ingestion run, derived from its start time
}

# Thresholds of the landing-zone health checks for runs over partial history: the first nights
# have only a few landing days, which the volume band and freshness would judge as a collapse.
# The checks themselves are not under test here; the marts are.
HEALTH_ENV = {
    "TOUCHLINE_VOLUME_MIN_PERCENT": "0",
    "TOUCHLINE_FRESHNESS_MAX_AGE_DAYS": "30",
}


def published_relations(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """Every table and view of the main schema: name -> [(column, type)] in table order."""
    rows = con.execute("""
        select c.table_name, c.column_name, c.data_type
        from information_schema.columns c
        join information_schema.tables t using (table_catalog, table_schema, table_name)
        where c.table_schema = 'main'
        order by c.table_name, c.ordinal_position""").fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        out.setdefault(table, []).append((column, kind))
    return out


def differences(left: Path, right: Path) -> list[str]:
    """What differs between two published warehouses: missing relations, columns, and rows (as
    multisets, run-time columns excluded). Empty when they hold the same data."""
    with duckdb.connect(str(left), read_only=True) as a, duckdb.connect(str(right), read_only=True) as b:
        relations_a, relations_b = published_relations(a), published_relations(b)
        found = [f"only in {side}: {sorted(set(x) - set(y))}" for side, x, y in
                 (("left", relations_a, relations_b), ("right", relations_b, relations_a)) if set(x) - set(y)]
        compare = duckdb.connect()
        for name in sorted(set(relations_a) & set(relations_b)):
            if relations_a[name] != relations_b[name]:
                found.append(f"{name}: columns {relations_a[name]} != {relations_b[name]}")
                continue
            columns = ", ".join(f'"{c}"' for c, _ in relations_a[name] if c not in RUN_TIME_COLUMNS)
            left_rows = a.sql(f'select {columns} from "{name}"').to_arrow_table()
            right_rows = b.sql(f'select {columns} from "{name}"').to_arrow_table()
            compare.register("left_rows", left_rows)
            compare.register("right_rows", right_rows)
            only_left = compare.execute("select * from left_rows except all select * from right_rows").fetchall()
            only_right = compare.execute("select * from right_rows except all select * from left_rows").fetchall()
            if only_left or only_right:
                found.append(f"{name} ({left_rows.num_rows} vs {right_rows.num_rows} rows): {len(only_left)} rows only left, "
                             f"{len(only_right)} only right; e.g. {only_left[:2]} vs {only_right[:2]}")
            compare.unregister("left_rows")
            compare.unregister("right_rows")
        compare.close()
    return found


def day_folders(landing: Path) -> list[tuple[str, str]]:
    """(source, day) of every day folder of a landing zone."""
    return sorted((p.parent.name, p.name) for p in landing.glob("*/*") if p.is_dir())


def deliver(source: Path, landing: Path, until: date) -> int:
    """Copy the day folders up to `until` that the landing zone lacks; returns the files copied."""
    copied = 0
    for system, day in day_folders(source):
        target = landing / system / day
        if date.fromisoformat(day) <= until and not target.exists():
            shutil.copytree(source / system / day, target)
            copied += sum(1 for p in target.iterdir() if p.is_file())
    return copied


def pipeline_env(monkeypatch, data: Path, run_date: date):
    for name, value in HEALTH_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TOUCHLINE_RUN_DATE", run_date.isoformat())
    monkeypatch.delenv("TOUCHLINE_FULL_REFRESH", raising=False)
    return use_dirs(monkeypatch, data)


@pytest.fixture(scope="module")
def zone(tmp_path_factory) -> Path:
    from touchline.demo.generator import generate

    root = tmp_path_factory.mktemp("zone") / "landing"
    generate(root, people=80, days=DAYS, seed=3, end=END)  # a seed whose untidy rows stay under the quarantine limits
    return root


@pytest.fixture(scope="module")
def full_rebuild(zone, tmp_path_factory):
    """One run over the whole zone in a fresh data folder: the reference every test compares with."""
    from touchline.pipeline import run_pipeline

    data = tmp_path_factory.mktemp("full")
    shutil.copytree(zone, data / "landing")
    with pytest.MonkeyPatch.context() as mp:
        s = pipeline_env(mp, data, END + timedelta(days=1))
        outcome = run_pipeline(s)
    assert outcome.success and outcome.published, [c.description for c in outcome.failed_checks]
    return s, outcome


def test_nightly_incremental_runs_give_the_marts_of_one_full_rebuild(zone, full_rebuild, tmp_path, monkeypatch):
    from touchline.pipeline import run_pipeline

    full, full_outcome = full_rebuild
    start = END - timedelta(days=DAYS - 1)
    data = tmp_path / "nightly"
    landing = data / "landing"
    landing.mkdir(parents=True)
    read = 0
    for night, last_day in enumerate(NIGHTS):
        until = start + timedelta(days=last_day - 1)
        new_files = deliver(zone, landing, until)
        assert new_files > 0
        s = pipeline_env(monkeypatch, data, until + timedelta(days=1))
        outcome = run_pipeline(s)
        assert outcome.success and outcome.published, (night, [c.description for c in outcome.failed_checks])
        totals = outcome.ingest_totals
        # incremental: tonight's files are read, every earlier one is skipped as unchanged
        assert (totals["files"], totals["files_skipped"]) == (new_files, read), (night, totals)
        read += new_files
    assert read == full_outcome.ingest_totals["files"]
    assert differences(s.warehouse, full.warehouse) == []


def start_run(log: Path) -> subprocess.Popen:
    """`touchline run` in its own process group (dbt runs as its child), output to `log`."""
    touchline = str(Path(sys.executable).with_name("touchline"))
    with log.open("w") as out:
        return subprocess.Popen([touchline, "run"], env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def kill_when(proc: subprocess.Popen, reached, what: str, log: Path, timeout: float = 900) -> None:
    """SIGKILL the run's whole process group as soon as `reached()` is true."""
    deadline = time.monotonic() + timeout
    while not reached():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"no sign of {what} after {timeout:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL


def lake_outputs(lake: Path) -> list[Path]:
    return [p for p in (lake / "touchpoints").glob("**/*.parquet") if p.name != "_empty.parquet"]


def dbt_models_built(dagster_home: Path) -> int:
    """Models (and seeds) the latest run's dbt step has materialized so far, from the event log."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return 0
        events = instance.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        return sum(1 for e in events if e.step_key == "touchline_dbt_assets")


def test_runs_killed_mid_ingestion_and_mid_dbt_leave_nothing_a_rerun_cannot_finish(zone, full_rebuild, tmp_path, monkeypatch):
    """SIGKILL a `touchline run` after its first lake outputs, then its rerun after dbt built a few
    models; a third run completes. The dead runs' lock does not block, the second run re-reads
    every file the first touched (its state was never written), and the published tables are
    exactly those of an uninterrupted run over the same zone, with no duplicate touchpoint."""
    from ingestion import state

    full, full_outcome = full_rebuild
    data = tmp_path / "killed"
    shutil.copytree(zone, data / "landing")
    s = pipeline_env(monkeypatch, data, END + timedelta(days=1))
    # a lock that did block would fail the rerun with RunLockTimeout instead of hanging for hours
    monkeypatch.setenv("TOUCHLINE_RUN_LOCK_WAIT_SECONDS", "120")
    files = full_outcome.ingest_totals["files"]
    touchpoint_outputs = len(lake_outputs(full.lake))

    # 1. killed during ingestion, a few files in: some outputs written, no state, no load_log
    log = tmp_path / "run1.log"
    first = start_run(log)
    kill_when(first, lambda: len(lake_outputs(s.lake)) >= 3, "ingestion writing lake outputs", log)
    written = len(lake_outputs(s.lake))
    assert 3 <= written < touchpoint_outputs, (written, touchpoint_outputs)  # really mid-way
    assert not state.state_path(s.lake).exists()
    assert [p.name for p in (s.lake / "load_log").glob("*.parquet")] in ([], ["_empty.parquet"])
    assert s.run_lock.exists()  # the dead run's lock file stays; its lock went with the process

    # 2. the rerun re-reads everything, then is killed with dbt half-way through the staging build
    log = tmp_path / "run2.log"
    second = start_run(log)
    kill_when(second, lambda: s.staging_warehouse.exists() and dbt_models_built(s.dagster_home) >= 8, "dbt building models", log)
    output = log.read_text()
    assert "waiting for another Touchline run" not in output, output
    assert state.state_path(s.lake).exists()
    totals = json.loads((s.lake / "_reports" / "ingest_latest.json").read_text())["totals"]
    assert (totals["files"], totals["files_skipped"]) == (files, 0), totals  # nothing of run 1 was trusted
    assert not s.warehouse.exists()  # nothing was published from a half-built staging file

    # 3. runs to the end
    log = tmp_path / "run3.log"
    third = start_run(log)
    assert third.wait(timeout=1200) == 0, log.read_text()[-5000:]
    output = " ".join(log.read_text().split())
    assert "waiting for another Touchline run" not in output, output
    assert "(published by this run)" in output, output
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        assert con.execute("select count(*) - count(distinct touchpoint_id) from fct_touchpoints").fetchone() == (0,)
    assert differences(s.warehouse, full.warehouse) == []
    assert not s.staging_warehouse.exists()


def landed_files(landing: Path, first: date, last: date) -> int:
    return sum(1 for system, day in day_folders(landing) if first <= date.fromisoformat(day) <= last
               for p in (landing / system / day).iterdir() if p.is_file())


def materialized_days(s, key: list[str]) -> list[str]:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(s.dagster_home)) as instance:
        return sorted(instance.get_materialized_partitions(dg.AssetKey(key)))


def test_a_backfill_in_two_date_ranges_gives_the_marts_of_one_full_rebuild(zone, full_rebuild, tmp_path, monkeypatch):
    """The whole zone is landed, then backfilled as two runs over days 1-5 and 6-12 (`touchline run
    --from --to`): each run reads exactly the files of its days and materializes exactly its daily
    partitions; the published tables equal those of one run over everything."""
    from touchline.pipeline import run_pipeline

    full, full_outcome = full_rebuild
    start = END - timedelta(days=DAYS - 1)
    data = tmp_path / "backfill"
    shutil.copytree(zone, data / "landing")
    s = pipeline_env(monkeypatch, data, END + timedelta(days=1))
    ranges = [(start, start + timedelta(days=4)), (start + timedelta(days=5), END)]
    for first, last in ranges:
        outcome = run_pipeline(s, days=(first, last))
        assert outcome.success and outcome.published, (first, [c.description for c in outcome.failed_checks], outcome.failed_steps)
        # only this range's files: read, not skipped, none of the other days touched
        assert (outcome.ingest_totals["files"], outcome.ingest_totals["files_skipped"]) == (landed_files(s.landing, first, last), 0)
    assert materialized_days(s, ["lake", "touchpoints"]) == [(start + timedelta(days=i)).isoformat() for i in range(DAYS)]
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        per_run = con.execute("select min(landed_day), max(landed_day) from load_log group by batch_id order by 1").fetchall()
    assert per_run == ranges
    assert differences(s.warehouse, full.warehouse) == []


def test_a_run_failed_in_dbt_reexecuted_from_failure_publishes_without_ingesting_again(zone, full_rebuild, tmp_path, monkeypatch):
    """Another process holds the staging file, so the run fails in its dbt step after ingestion and
    the lake checks passed. `touchline rerun <run id>` (Dagster's re-execution from failure) runs the
    failed step and what follows it, not the ingestion, and publishes the tables of an uninterrupted run."""
    import dagster as dg

    from touchline.pipeline import rerun_from_failure, run_pipeline

    full, _ = full_rebuild
    data = tmp_path / "rerun"
    shutil.copytree(zone, data / "landing")
    s = pipeline_env(monkeypatch, data, END + timedelta(days=1))
    s.staging_warehouse.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
                               "sys.stdin.read()", str(s.staging_warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        failed = run_pipeline(s)
    finally:
        holder.communicate("")
    assert not failed.success and failed.failed_steps == ["touchline_dbt_assets"], failed.failed_steps
    assert not s.warehouse.exists()
    assert not failed.blocking_failures  # the lake's checks passed; only the step failed

    rerun = rerun_from_failure(s, failed.run_id)
    assert rerun.success and rerun.published, (rerun.failed_steps, [c.description for c in rerun.failed_checks])
    with dg.DagsterInstance.from_config(str(s.dagster_home)) as instance:
        started = {e.step_key for e in instance.all_logs(rerun.run_id, of_type=dg.DagsterEventType.STEP_START)}
        assert instance.get_run_by_id(rerun.run_id).parent_run_id == failed.run_id
    assert "normalize_exports" not in started and "touchline_dbt_assets" in started, started
    assert len([p for p in (s.lake / "load_log").glob("*.parquet") if p.name != "_empty.parquet"]) == 1  # ingested once
    assert differences(s.warehouse, full.warehouse) == []
