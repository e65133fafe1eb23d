"""Files normalized two at a time (ingestion/run.py) give what one at a time gives: the same lake,
the same load_log and report in the files' order, the same identity map."""

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from ingestion import run
from ingestion.contracts import load_contracts
from tests.helpers import SALT
from touchline.demo.generator import generate

CONTRACTS = load_contracts()
TABLES = ("touchpoints", "ad_spend", "quarantine", "identity_links", "identity_map", "load_log")


def lake_of(landing: Path, lake: Path, threads: int, monkeypatch: pytest.MonkeyPatch) -> run.IngestReport:
    monkeypatch.setattr(run, "INGEST_THREADS", threads)
    report = run.ingest(landing, lake, CONTRACTS, salt=SALT, batch_id="batch")
    report.write(lake)
    run.resolve_identities(lake)
    return report


def test_two_threads_write_what_one_writes(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    generate(landing, people=400, days=4, seed=3, end=date(2026, 10, 31))
    one = lake_of(landing, tmp_path / "one", 1, monkeypatch)
    two = lake_of(landing, tmp_path / "two", 2, monkeypatch)

    assert len(one.files) > 20 and one.totals()["rows_quarantined"] > 0  # many files, some bad rows
    assert [f["source_file"] for f in two.files] == sorted(f["source_file"] for f in two.files)  # the files' order
    assert two.files == one.files and two.quarantine_examples == one.quarantine_examples
    for table in TABLES:
        files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one" / table).rglob("*.parquet"))
        assert files == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two" / table).rglob("*.parquet"))
        for relative in files:
            a, b = pl.read_parquet(tmp_path / "one" / relative), pl.read_parquet(tmp_path / "two" / relative)
            drop = [c for c in ("ingested_at",) if c in a.columns]  # the wall clock of each run
            assert a.drop(drop).equals(b.drop(drop)), relative
