"""`touchline run --from/--to` and `touchline rerun`: what they refuse, with exit code 2 and a message
(the runs themselves are tested end to end in tests/test_faults_end_to_end.py)."""

import pytest
from typer.testing import CliRunner

from touchline.cli import app


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("TOUCHLINE_DATA", str(tmp_path))
    for name in ("TOUCHLINE_LANDING", "TOUCHLINE_LAKE", "TOUCHLINE_WAREHOUSE", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "landing").mkdir()
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize(("args", "message"), [
    (["--to", "2026-10-05"], "--to needs --from"),
    (["--from", "2026-10-05", "--to", "2026-10-01"], "--from 2026-10-05 is after --to 2026-10-01"),
    (["--from", "5 Oct"], "a day is YYYY-MM-DD"),
    (["--from", "2019-12-31"], "2019-12-31 to 2019-12-31 is outside the daily partitions 2020-01-01 to"),
])
def test_a_bad_backfill_range_is_refused_before_anything_runs(data, args, message):
    result = invoke("run", *args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not (data / "dagster").exists() or not any((data / "dagster").glob("history/runs/*"))


def test_rerun_of_an_unknown_run_says_so(data):
    result = invoke("rerun", "no-such-run")
    assert result.exit_code == 2, result.output
    assert "Cannot re-execute: no run 'no-such-run' in the Dagster instance" in " ".join(result.output.split())
