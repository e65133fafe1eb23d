"""touchline/publish.py without a pipeline: staging preparation, the guards of `publish`, and
readers in other processes while the published file is replaced again and again."""

import json
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from touchline import settings as settings_module
from touchline.publish import PublishError, catalog_name, file_sha256, prepare_staging, publish, wal_path
from touchline.settings import REPO_ROOT


def settings_in(folder: Path) -> settings_module.Settings:
    return settings_module.load({"TOUCHLINE_DATA": str(folder)})


def build_staging(s: settings_module.Settings, version: int, rows: int = 50_000) -> None:
    """A staging warehouse whose table says which version it is, and a view over it (as dbt leaves it)."""
    s.staging_warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(s.staging_warehouse)) as con:
        con.execute(f"create table facts as select range as id, {version} as version from range({rows + version})")
        con.execute("create view facts_view as select * from touchline.main.facts")  # names the catalog, as dbt's refs do


@contextmanager
def reader(database: Path, sql: str, tmp: Path, name: str, *, hold: bool = False, pause: float = 0.0):
    """A reader process (tests/warehouse_reader.py); yields a function returning its report once stopped."""
    out, stop = tmp / f"{name}.json", tmp / f"{name}.stop"
    args = [sys.executable, "-m", "tests.warehouse_reader", str(database), sql, str(out), str(stop), "--pause", str(pause)]
    proc = subprocess.Popen(args + (["--hold"] if hold else []), cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
    report: dict = {}
    try:
        deadline = time.monotonic() + 60
        while not out.with_name(out.name + ".ready").exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the reader never read"
            time.sleep(0.02)
        yield lambda: report
    finally:
        stop.touch()
        proc.wait(timeout=60)
        report.update(json.loads(out.read_text()) if out.exists() else {"errors": [proc.stderr.read()], "states": []})


@pytest.mark.parametrize("name", ["touchline.duckdb", "my.warehouse.duckdb", ".hidden.duckdb", "warehouse", "prod-wh.db"])
def test_staging_file_is_beside_the_published_one_with_the_same_catalog(tmp_path, name):
    s = settings_module.load({"TOUCHLINE_WAREHOUSE": str(tmp_path / "wh" / name)})
    assert s.staging_warehouse.parent == s.warehouse.parent and ".staging" in s.staging_warehouse.name
    assert catalog_name(s.staging_warehouse) == catalog_name(s.warehouse)
    assert s.dbt_env()[settings_module.DBT_WAREHOUSE_ENV] == str(s.staging_warehouse)


def test_publish_replaces_the_file_whole_and_views_still_resolve(tmp_path):
    s = settings_in(tmp_path)
    build_staging(s, 1, rows=10)
    result = publish(s)
    assert not s.staging_warehouse.exists() and not wal_path(s.staging_warehouse).exists() and not wal_path(s.warehouse).exists()
    assert result.sha256 == file_sha256(s.warehouse) and result.tables == ["facts"] and result.views == 1
    assert result.rows == {"facts": 11, "facts_view": 11}  # a view over tables is counted too
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        assert con.execute("select count(*), max(version) from facts_view").fetchone() == (11, 1)


def test_publish_without_a_staging_build_is_an_error(tmp_path):
    with pytest.raises(PublishError, match="no staging warehouse at .*touchline.staging.duckdb: dbt did not build one"):
        publish(settings_in(tmp_path))


def test_publish_refuses_when_the_published_file_has_a_write_ahead_log(tmp_path):
    s = settings_in(tmp_path)
    build_staging(s, 1, rows=10)
    publish(s)
    before = file_sha256(s.warehouse)
    wal_path(s.warehouse).write_bytes(b"left by a crashed writer")
    build_staging(s, 2, rows=10)
    with pytest.raises(PublishError, match=r"touchline.duckdb.wal exists: a process has the published warehouse open for writing"):
        publish(s)
    assert file_sha256(s.warehouse) == before and s.staging_warehouse.exists()


def test_prepare_staging_starts_empty_or_from_a_copy_of_the_published_file(tmp_path):
    s = settings_in(tmp_path)
    build_staging(s, 1, rows=10)
    publish(s)
    published = file_sha256(s.warehouse)
    build_staging(s, 2, rows=10)  # a failed night's leftover
    wal_path(s.staging_warehouse).write_bytes(b"")
    assert prepare_staging(s, from_published=False) == "staging starts empty"
    assert not s.staging_warehouse.exists() and not wal_path(s.staging_warehouse).exists()
    assert prepare_staging(s, from_published=True).startswith("staging starts from a copy of")
    assert file_sha256(s.staging_warehouse) == published == file_sha256(s.warehouse)


def test_prepare_staging_never_deletes_a_file_another_process_is_writing(tmp_path):
    s = settings_in(tmp_path)
    build_staging(s, 1, rows=10)
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('open', flush=True); sys.stdin.read()",
                               str(s.staging_warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(PublishError, match="is open in another process .*Runs that build the warehouse must not overlap"):
            prepare_staging(s, from_published=False)
        assert s.staging_warehouse.exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_readers_in_other_processes_see_one_whole_version_while_it_is_replaced_20_times(tmp_path):
    """A reader opening a new read-only connection per query, hammering the file while it is
    published 20 times, only ever sees whole versions, in publication order, and no error; a
    reader holding one connection keeps the version it opened, also without an error."""
    s = settings_in(tmp_path)
    build_staging(s, 0)
    publish(s)
    sql = "select max(version), count(*) from facts_view"
    with reader(s.warehouse, sql, tmp_path, "fresh") as fresh, reader(s.warehouse, sql, tmp_path, "held", hold=True) as held:
        for version in range(1, 21):
            build_staging(s, version)
            publish(s)
    seen = [tuple(state) for state, _ in fresh()["states"]]
    assert fresh()["errors"] == [] and fresh()["reads"] > 20
    assert all(count == 50_000 + version for version, count in seen)  # whole versions only
    assert [v for v, _ in seen] == sorted(v for v, _ in seen)  # never back to an older one
    assert seen[-1] == (20, 50_020) and len(seen) >= 3  # it saw the publications happen
    assert held()["errors"] == [] and [tuple(state) for state, _ in held()["states"]] == [(0, 50_000)]


@contextmanager
def writer_holding(database: Path):
    """Another process with `database` open read-write (DuckDB allows one writer) until its stdin closes."""
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('open', flush=True); "
                               "sys.stdin.read()", str(database)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        yield holder
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_publish_errors_say_whether_trying_again_can_help(tmp_path):
    s = settings_in(tmp_path)
    with pytest.raises(PublishError) as nothing_built:
        publish(s)
    assert not nothing_built.value.retryable
    build_staging(s, 1, rows=10)
    with writer_holding(s.staging_warehouse), pytest.raises(PublishError, match="cannot open .*touchline.staging.duckdb to checkpoint it") as held:
        publish(s)
    assert held.value.retryable
    assert not s.warehouse.exists()


def test_the_publish_step_is_retried_when_another_process_held_the_staging_file(tmp_path, monkeypatch):
    """First attempt: another process has the staging file open (retryable). That process lets go
    as soon as Dagster has scheduled the retry; the step runs again 5 s later and publishes."""
    import threading

    import dagster as dg

    from orchestration.publish import build_publish_asset
    from orchestration.resources import TouchlineResource

    monkeypatch.setenv("TOUCHLINE_DATA", str(tmp_path))
    for name in ("TOUCHLINE_LAKE", "TOUCHLINE_WAREHOUSE", "TOUCHLINE_LANDING", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    s = settings_module.load()
    build_staging(s, 1, rows=10)

    @dg.asset(key=["marts", "some_mart"])
    def some_mart() -> None:  # stands in for the dbt assets the publication waits for
        pass

    instance = dg.DagsterInstance.ephemeral()

    def retry_scheduled() -> bool:
        runs = instance.get_runs(limit=1)
        return bool(runs) and bool(instance.get_records_for_run(runs[0].run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY).records)

    with writer_holding(s.staging_warehouse) as holder:
        def let_go_after_the_first_attempt() -> None:
            deadline = time.monotonic() + 60
            while not retry_scheduled() and time.monotonic() < deadline:
                time.sleep(0.05)
            holder.stdin.close()

        releaser = threading.Thread(target=let_go_after_the_first_attempt)
        releaser.start()
        result = dg.materialize([some_mart, build_publish_asset(some_mart)], resources={"touchline": TouchlineResource()},
                                instance=instance, raise_on_error=False)
        releaser.join()
    assert result.success
    retries = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert len(retries) == 1 and "cannot open" in retries[0].event_specific_data.error.cause.message
    assert not s.staging_warehouse.exists()
    with duckdb.connect(str(s.warehouse), read_only=True) as con:
        assert con.execute("select max(version), count(*) from facts_view").fetchone() == (1, 11)
