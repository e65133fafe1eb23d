"""`touchline query` and `touchline marts` on a small warehouse built by hand."""

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from touchline.cli import app


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    path = tmp_path / "warehouse" / "touchline.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        con.execute("create table mart_demo as select * from (values ('awareness', 4), ('purchase', 2)) as t(journey_stage, people)")
        con.execute("create table stg_hidden as select 1 as x")
    monkeypatch.setenv("TOUCHLINE_DATA", str(tmp_path))
    for name in ("TOUCHLINE_WAREHOUSE", "DAGSTER_HOME", "TOUCHLINE_LAKE", "TOUCHLINE_LANDING"):
        monkeypatch.delenv(name, raising=False)
    return path


def run(*args):
    return CliRunner().invoke(app, list(args))


def test_query_prints_a_table(warehouse):
    result = run("query", "select * from mart_demo order by people desc")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "awareness" in line or "purchase" in line]
    assert ["4" in lines[0], "2" in lines[1]] == [True, True]
    assert "2 rows" in result.output


def test_query_csv_to_stdout_and_parquet_to_file(warehouse, tmp_path):
    result = run("query", "select * from mart_demo order by people desc", "--format", "csv")
    assert result.exit_code == 0
    assert result.stdout == "journey_stage,people\nawareness,4\npurchase,2\n"
    out = tmp_path / "out" / "funnel.parquet"
    result = run("query", "select * from mart_demo", "--format", "parquet", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out).sort("people")["people"].to_list() == [2, 4]


@pytest.mark.parametrize("statement", ["delete from mart_demo", "drop table mart_demo",
                                       "insert into mart_demo values ('x', 1)", "create table t as select 1"])
def test_query_refuses_writes_with_a_clear_message(warehouse, statement):
    result = run("query", statement)
    assert result.exit_code == 2
    assert "touchline query is read-only" in " ".join(result.output.split())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from mart_demo").fetchone()[0] == 2


def test_query_errors_are_messages_not_tracebacks(warehouse):
    result = run("query", "select * from no_such_table")
    assert result.exit_code == 2
    assert "no_such_table" in result.output and "Traceback" not in result.output


def test_missing_warehouse_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TOUCHLINE_DATA", str(tmp_path))
    monkeypatch.delenv("TOUCHLINE_WAREHOUSE", raising=False)
    result = run("query", "select 1")
    assert result.exit_code == 2 and "make run" in result.output


def test_marts_lists_marts_with_row_counts(warehouse):
    result = run("marts")
    assert result.exit_code == 0, result.output
    assert "mart_demo" in result.output and "stg_hidden" not in result.output
    row = next(line for line in result.output.splitlines() if "mart_demo" in line)
    cells = [c.strip() for c in row.split("│")]
    assert cells[:3] == ["mart_demo", "2", "-"]  # 2 rows; never built by a Dagster run here


def test_the_installed_command_keeps_exit_codes(tmp_path):
    """`touchline` (touchline.cli:main) skips interpreter teardown after its work; exit codes survive."""
    import subprocess
    import sys
    from pathlib import Path

    touchline = Path(sys.executable).with_name("touchline")
    env = {"PATH": str(touchline.parent), "TOUCHLINE_DATA": str(tmp_path), "HOME": str(tmp_path)}
    missing = subprocess.run([str(touchline), "query", "select 1"], env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and "build it first with `make run`" in " ".join(missing.stderr.split())
    assert subprocess.run([str(touchline), "report"], env=env, capture_output=True).returncode == 1
    assert subprocess.run([str(touchline), "--help"], env=env, capture_output=True).returncode == 0
    assert subprocess.run([str(touchline), "no-such-command"], env=env, capture_output=True).returncode == 2
