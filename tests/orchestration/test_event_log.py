"""The batched SQLite event log (orchestration/event_log.py) records what Dagster's own does."""

import contextlib
import logging
import os
import sqlite3
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.events.log import EventLogEntry

from orchestration.event_log import KEPT_SHARDS, BatchedSqliteEventLogStorage
from touchline.settings import write_instance_config

DAYS = dg.DailyPartitionsDefinition(start_date="2026-10-01", end_date="2026-10-06")  # 5 days
KEYS = [dg.AssetKey(["lake", "a"]), dg.AssetKey(["lake", "b"])]


@dg.multi_asset(specs=[dg.AssetSpec(k) for k in KEYS], partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def two_assets(context: dg.AssetExecutionContext):
    for key in KEYS:
        yield dg.MaterializeResult(asset_key=key, metadata={"rows": 3})


@dg.asset_check(asset=KEYS[0])
def a_has_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


JOB = dg.define_asset_job("j", selection=dg.AssetSelection.assets(two_assets) | dg.AssetSelection.checks(a_has_rows))


def _run(home: Path, monkeypatch: pytest.MonkeyPatch, *, batched: bool) -> dict:
    home.mkdir()
    batches: list[int] = []
    store_event_batch = BatchedSqliteEventLogStorage.store_event_batch
    monkeypatch.setattr(BatchedSqliteEventLogStorage, "store_event_batch",
                        lambda self, events: (batches.append(len(events)), store_event_batch(self, events))[1])
    if batched:
        write_instance_config(home / "dagster.yaml")
        monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "10000")
    else:
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, BatchedSqliteEventLogStorage) == batched
        job = dg.Definitions(assets=[two_assets], asset_checks=[a_has_rows], jobs=[JOB]).resolve_job_def("j")
        result = job.execute_in_process(instance=instance, tags={
            "dagster/asset_partition_range_start": "2026-10-02", "dagster/asset_partition_range_end": "2026-10-04"})
        assert result.success
        run_events = instance.all_logs(result.run_id)
        out = {
            "materialized": {k.to_user_string(): sorted(instance.get_materialized_partitions(k)) for k in KEYS},
            "run_event_types": sorted(e.dagster_event.event_type_value for e in run_events if e.dagster_event),
            "planned": sorted((r.asset_key.to_user_string(), r.partition_key) for r in instance.get_event_records(
                dg.EventRecordsFilter(dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, asset_key=KEYS[1]))),
            "metadata": sorted((r.partition_key, r.asset_materialization.metadata["rows"].value) for r in instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=KEYS[0], asset_partitions=["2026-10-02", "2026-10-04"]), limit=100).records),
            "latest_run": instance.get_latest_materialization_event(KEYS[1]).run_id == result.run_id,
            "check": sorted((r.status.value, r.run_id == result.run_id) for r in instance.event_log_storage.get_asset_check_execution_history(
                a_has_rows.check_key, limit=10)),
        }
    # the batched storage got the planned events of the run in one batch (6 materializations and
    # the check), then the materializations of each asset
    assert sorted(batches) == ([3, 3, 7] if batched else [])
    return out


@pytest.mark.filterwarnings("ignore:Function `EventMethods.get_event_records` is deprecated:DeprecationWarning")
def test_a_partition_range_is_recorded_as_by_dagsters_own_storage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    plain = _run(tmp_path / "plain", monkeypatch, batched=False)
    batched = _run(tmp_path / "batched", monkeypatch, batched=True)
    assert batched == plain
    assert plain["materialized"] == {"lake/a": ["2026-10-02", "2026-10-03", "2026-10-04"],
                                     "lake/b": ["2026-10-02", "2026-10-03", "2026-10-04"]}
    assert plain["run_event_types"].count("ASSET_MATERIALIZATION") == 6
    assert plain["run_event_types"].count("ASSET_MATERIALIZATION_PLANNED") == 6
    assert plain["run_event_types"].count("ASSET_CHECK_EVALUATION_PLANNED") == 1
    assert ("SUCCEEDED", True) in plain["check"]  # (and a planned row per day: Dagster's own bookkeeping)
    assert plain["planned"] == [("lake/b", d) for d in ("2026-10-02", "2026-10-03", "2026-10-04")]
    assert plain["metadata"] == [("2026-10-02", 3), ("2026-10-04", 3)]
    assert plain["latest_run"]


def test_instance_config_uses_it_unless_storage_was_chosen_by_hand(tmp_path: Path):
    write_instance_config(tmp_path / "dagster.yaml")
    written = yaml.safe_load((tmp_path / "dagster.yaml").read_text())
    assert written["event_log_storage"]["class"] == "BatchedSqliteEventLogStorage"
    # Dagster's default SQLite folders, so an instance that had no storage block keeps its history
    assert written["event_log_storage"]["config"]["base_dir"] == f"{tmp_path}/history/runs"
    assert written["run_storage"]["config"]["base_dir"] == f"{tmp_path}/history"
    assert written["schedule_storage"]["config"]["base_dir"] == f"{tmp_path}/schedules"

    by_hand = {"storage": {"postgres": {"postgres_url": {"env": "PG_URL"}}}}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(by_hand))
    write_instance_config(tmp_path / "dagster.yaml")
    kept = yaml.safe_load((tmp_path / "dagster.yaml").read_text())
    assert kept["storage"] == by_hand["storage"]
    assert not {"run_storage", "event_log_storage", "schedule_storage"} & kept.keys()


def _log_entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(error_info=None, level=logging.INFO, user_message=message, run_id=run_id,
                         timestamp=time.time(), step_key=None, job_name="j", dagster_event=None)


def _open_event_files(base_dir: Path) -> list[str]:
    return sorted(os.path.basename(os.readlink(fd)) for fd in Path("/proc/self/fd").iterdir()
                  if os.path.realpath(fd).startswith(str(base_dir)) and os.path.realpath(fd).endswith(".db"))


def _events_in_file(path: str) -> int:
    """Events in a run's .db file itself: immutable=1 makes SQLite read the file alone, not its log."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?immutable=1", uri=True)) as con:
        return con.execute("select count(*) from event_logs").fetchone()[0]


def test_each_write_reaches_the_runs_file_and_its_watchers(tmp_path: Path):
    """The storage keeps its connections open, yet every write is checkpointed into the run's .db
    file at once: Dagster's UI (another process, another storage) follows a running run by watching
    that file."""
    writer, reader = BatchedSqliteEventLogStorage(str(tmp_path)), BatchedSqliteEventLogStorage(str(tmp_path))
    seen: list[str] = []
    try:
        writer.store_event(_log_entry("run1", "0"))
        reader.watch("run1", None, lambda entry, cursor: seen.append(entry.user_message))
        for i in range(1, 6):
            writer.store_event(_log_entry("run1", str(i)))  # no read in between: reads checkpoint too
            assert _events_in_file(writer.path_for_shard("run1")) == i + 1
        deadline = time.monotonic() + 20
        while len(seen) < 6 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert seen == ["0", "1", "2", "3", "4", "5"]
    finally:
        reader.dispose()
        writer.dispose()


def test_connections_are_kept_for_the_last_runs_only(tmp_path: Path):
    storage = BatchedSqliteEventLogStorage(str(tmp_path))
    try:
        runs = [f"run{i:02d}" for i in range(KEPT_SHARDS + 4)]
        for run in runs:
            storage.store_event(_log_entry(run, "first"))
        open_files = _open_event_files(tmp_path)
        assert len(open_files) == KEPT_SHARDS + 1  # the index and the last runs written
        assert "index.db" in open_files and f"{runs[-1]}.db" in open_files and f"{runs[0]}.db" not in open_files
        storage.store_event(_log_entry(runs[0], "second"))  # an evicted run is opened again
        assert [e.user_message for e in storage.get_logs_for_run(runs[0])] == ["first", "second"]
        assert [e.user_message for e in storage.get_logs_for_run(runs[1])] == ["first"]

        storage.wipe()  # closes the files before deleting them: a run written again starts empty
        assert storage.get_logs_for_run(runs[-1]) == []
        storage.store_event(_log_entry(runs[-1], "after wipe"))
        assert [e.user_message for e in storage.get_logs_for_run(runs[-1])] == ["after wipe"]
    finally:
        storage.dispose()
    assert _open_event_files(tmp_path) == []
