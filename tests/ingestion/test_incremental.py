"""Incremental ingestion (ingestion/run.py, ingestion/state.py): a night reads only the landed files
the lake does not hold as they are now; a full refresh reads everything again."""

import hashlib
import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from ingestion import state, storage
from ingestion.contracts import load_contracts
from ingestion.run import ingest
from orchestration.checks import rows_accounted_for
from orchestration.resources import TouchlineResource
from tests.helpers import OCTOBER_2026, SALT, write_export
from touchline import quality_report
from touchline.settings import CONTRACTS_DIRS

CONTRACTS = load_contracts()
OPEN = ["Weekly Newsletter", "c2", "open"]
MAILCHIMP = "mailchimp_activity/2026-10-05/export.csv"
SPEND = "meta_ads_campaign_day/2026-10-04/export.csv"
SHOPIFY = "shopify_orders/2026-10-03/export.csv"


def landing_of(root: Path) -> None:
    """Three files: two Mailchimp opens (10:00 New York = 14:00 UTC), one Meta spend row, one Shopify
    order plus a line cut in half (quarantined)."""
    write_export(root, "mailchimp_activity", "2026-10-05", [["a@example.com", "A", "A", *OPEN, "2026-10-05 10:00:00", ""],
                                                            ["b@example.com", "B", "B", *OPEN, "2026-10-05 11:00:00", ""]])
    write_export(root, "meta_ads_campaign_day", "2026-10-04", [["2026-10-04", "2026-10-04", "Brand", "222", "500", "3", "4.20"]])
    write_export(root, "shopify_orders", "2026-10-03", [["#1", "a@example.com", "paid", "2026-10-03 10:00:00 -0400", "USD", "90.00",
                                                         "0.00", "10.00", "100.00", "", "web"], ["#9", "x@example.com"]])


@pytest.fixture
def zone(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    landing_of(landing)
    first = ingest(landing, lake, CONTRACTS, salt=SALT, batch_id="night-1")
    first.write(lake)
    assert first.totals()["files"] == 3
    return landing, lake


def night(landing, lake, batch_id, contracts=CONTRACTS, **kwargs):
    report = ingest(landing, lake, contracts, salt=kwargs.pop("salt", SALT), batch_id=batch_id, **kwargs)
    report.write(lake)
    return report


def read(report) -> dict[str, str]:
    """File -> why this run read it."""
    return {f["source_file"]: f["reason"] for f in report.files}


def lake_files(lake: Path) -> dict[str, int]:
    """Every per-file output (touchpoints, ad spend, links, quarantine) -> its modification time."""
    return {p.relative_to(lake).as_posix(): p.stat().st_mtime_ns
            for table in state.PER_FILE_TABLES for p in (lake / table).rglob("*.parquet")}


def rows(lake: Path, table: str, source_file: str) -> list[dict]:
    frame = pl.read_parquet(storage.output_path(lake, table, source_file))
    return frame.sort("source_row").to_dicts()


def test_the_second_night_reads_nothing_and_leaves_the_lake_as_it_was(zone):
    landing, lake = zone
    before = lake_files(lake)
    report = night(landing, lake, "night-2")
    assert report.files == []
    assert sorted(f["source_file"] for f in report.skipped) == [MAILCHIMP, SPEND, SHOPIFY]
    assert {f["batch_id"] for f in report.skipped} == {"night-1"}
    totals = report.totals()
    assert (totals["files"], totals["files_skipped"], totals["rows_read"], totals["files_missing"]) == (0, 3, 0, 0)
    assert lake_files(lake) == before  # not one output rewritten
    # the night's load_log is empty: every file's latest row is still night-1's
    assert pl.read_parquet(lake / "load_log" / "night-2.parquet").height == 0
    assert {r["source_file"]: r["batch_id"] for r in state.load(lake).values()} == {SPEND: "night-1", MAILCHIMP: "night-1", SHOPIFY: "night-1"}


def test_a_night_with_nothing_new_still_reconciles(zone, tmp_path, monkeypatch):
    """The quality report and the rows_accounted_for check describe the night that read nothing."""
    landing, lake = zone
    night(landing, lake, "night-2")
    report = quality_report.build(lake)
    assert report["batch_id"] == "night-2"
    assert report["totals"] == {"files": 0, "files_rejected": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0,
                                "duplicates_dropped": 0, "files_skipped": 3, "files_missing": 0, "files_removed": 0, "strays": 0}
    assert report["by_source"] == [] and report["files_with_losses"] == []
    markdown = quality_report.to_markdown(report)
    assert "from 0 files: 0 rows read" in markdown
    assert "3 unchanged files skipped (already in the lake from an earlier run" in markdown
    monkeypatch.setenv("TOUCHLINE_DATA", str(tmp_path))
    monkeypatch.delenv("TOUCHLINE_LAKE", raising=False)
    check = rows_accounted_for(touchline=TouchlineResource())
    assert isinstance(check, dg.AssetCheckResult) and check.passed is True
    assert check.description == "0 rows read = 0 loaded + 0 quarantined + 0 exact duplicates"


def test_a_redelivered_file_is_read_again_and_its_rows_replaced(zone):
    landing, lake = zone
    # the vendor re-sends the Shopify day: the cut line is now complete, and a second order came in
    write_export(landing, "shopify_orders", "2026-10-03", [
        ["#1", "a@example.com", "paid", "2026-10-03 10:00:00 -0400", "USD", "90.00", "0.00", "10.00", "100.00", "", "web"],
        ["#9", "x@example.com", "paid", "2026-10-03 11:00:00 -0400", "USD", "20.00", "0.00", "0.00", "20.00", "", "web"]])
    assert rows(lake, "quarantine", SHOPIFY)[0]["source_line"] == 3  # night-1 quarantined the cut line
    report = night(landing, lake, "night-2")
    assert read(report) == {SHOPIFY: "changed"}
    assert sorted(f["source_file"] for f in report.skipped) == [MAILCHIMP, SPEND]
    [shopify] = report.files
    assert (shopify["rows_read"], shopify["rows_loaded"], shopify["rows_quarantined"]) == (2, 2, 0)
    # the file's outputs are replaced, not added to: two orders, both from night-2, no quarantine left
    orders = rows(lake, "touchpoints", SHOPIFY)
    assert [(r["source_row"], r["batch_id"]) for r in orders] == [(1, "night-2"), (2, "night-2")]
    assert not storage.output_path(lake, "quarantine", SHOPIFY).exists()
    with duckdb.connect() as con:
        assert con.execute(f"select count(*) from read_parquet('{storage.table_glob(lake, 'touchpoints')}') "
                       f"where source_file = '{SHOPIFY}'").fetchone() == (2,)
    assert state.load(lake)[SHOPIFY]["file_sha256"] == shopify["file_sha256"] == hashlib.sha256((landing / SHOPIFY).read_bytes()).hexdigest()


def test_a_file_rewritten_with_the_same_bytes_is_not_read(zone):
    landing, lake = zone
    path = landing / MAILCHIMP
    path.write_bytes(path.read_bytes())  # a re-delivery of identical content: new mtime, same checksum
    report = night(landing, lake, "night-2")
    assert report.files == [] and report.totals()["files_skipped"] == 3
    assert state.load(lake)[MAILCHIMP]["mtime_ns"] == path.stat().st_mtime_ns  # the state learns the new mtime


def test_a_changed_contract_reads_its_source_again(zone, tmp_path):
    landing, lake = zone
    folder = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIRS[0], folder)
    yaml = folder / "mailchimp_activity.yaml"
    # a comment changes the YAML but not the contract: nothing is read
    yaml.write_text("# reviewed 2026-10\n" + yaml.read_text())
    assert night(landing, lake, "night-2", load_contracts(folder)).files == []
    # the account's time zone was Chicago, not New York: 10:00 CDT is 15:00 UTC (was 14:00 at EDT)
    yaml.write_text(yaml.read_text().replace("timezone: America/New_York", "timezone: America/Chicago"))
    report = night(landing, lake, "night-3", load_contracts(folder))
    assert read(report) == {MAILCHIMP: "contract changed"}
    assert [r["occurred_at"].strftime("%H:%M") for r in rows(lake, "touchpoints", MAILCHIMP)] == ["15:00", "16:00"]


def test_a_changed_salt_reads_everything_again(zone):
    landing, lake = zone
    report = night(landing, lake, "night-2", salt="another-salt")
    assert set(read(report).values()) == {"salt changed"} and len(report.files) == 3


def test_a_file_whose_output_was_deleted_is_read_again(zone):
    landing, lake = zone
    storage.output_path(lake, "touchpoints", MAILCHIMP).unlink()
    report = night(landing, lake, "night-2")
    assert read(report) == {MAILCHIMP: "outputs missing"}
    assert len(rows(lake, "touchpoints", MAILCHIMP)) == 2


def test_full_refresh_reads_every_file(zone):
    landing, lake = zone
    report = night(landing, lake, "night-2", full_refresh=True)
    assert read(report) == {SPEND: "full refresh", MAILCHIMP: "full refresh", SHOPIFY: "full refresh"}
    assert report.skipped == [] and report.totals()["rows_read"] == 2 + 1 + 2
    assert {r["batch_id"] for r in state.load(lake).values()} == {"night-2"}


def test_a_file_gone_from_the_landing_zone_is_kept_and_reported_until_a_full_refresh(zone):
    landing, lake = zone
    (landing / SPEND).unlink()
    report = night(landing, lake, "night-2")
    assert report.missing == [{"source_file": SPEND, "batch_id": "night-1", "rows_loaded": 1}]
    assert report.totals()["files_missing"] == 1 and report.removed == []
    assert storage.output_path(lake, "ad_spend", SPEND).exists()  # its rows stay
    assert SPEND in state.load(lake)  # and still count for the volume and freshness checks
    quality = quality_report.build(lake)
    assert quality["totals"]["files_missing"] == 1
    assert f"- `{SPEND}`: 1 rows, read by batch night-1" in quality_report.to_markdown(quality)
    # a full refresh makes the lake the landing zone as it is: the Meta file's rows go, reported
    report = night(landing, lake, "night-3", full_refresh=True)
    assert report.removed == [{"source_file": SPEND, "batch_id": "night-1", "rows_loaded": 1}] and report.missing == []
    assert not storage.output_path(lake, "ad_spend", SPEND).exists()
    assert SPEND not in state.load(lake)
    assert "## Removed from the lake by this full refresh" in quality_report.to_markdown(quality_report.build(lake))


def test_a_lake_without_state_is_read_whole_once(zone):
    """Deleting lake/_state (or a lake from before the state existed) means: read everything once."""
    landing, lake = zone
    shutil.rmtree(lake / "_state")
    assert set(read(night(landing, lake, "night-2")).values()) == {"new"}
    assert night(landing, lake, "night-3").files == []


def test_the_full_refresh_run_tag_reaches_the_ingestion_step(zone, tmp_path, monkeypatch):
    """`touchline run --full-refresh` tags the run (touchline/pipeline.py); the ingestion step reads
    every file on a run with that tag, and only the new ones without it."""
    from ingestion.contracts import load_contracts as load
    from orchestration.normalize import FULL_REFRESH_TAG, TOUCHPOINTS, build_normalize_asset
    from orchestration.partitions import daily_partitions

    landing, lake = zone
    monkeypatch.setenv("TOUCHLINE_DATA", str(tmp_path))
    monkeypatch.setenv("TOUCHLINE_LANDING", str(landing))
    monkeypatch.setenv("TOUCHLINE_SALT", SALT)
    for name in ("TOUCHLINE_LAKE", "TOUCHLINE_WAREHOUSE", "TOUCHLINE_FULL_REFRESH"):
        monkeypatch.delenv(name, raising=False)
    asset = build_normalize_asset(load(), daily_partitions(date(2026, 1, 1)))
    resources = {"touchline": TouchlineResource()}

    def files_read(**kwargs) -> tuple[int, int]:
        with dg.instance_for_test() as instance:
            tags = OCTOBER_2026 | kwargs.pop("tags", {})  # the days of the test's landing zone
            result = dg.materialize([asset], resources=resources, instance=instance, tags=tags, **kwargs)
        events = [e for e in result.get_asset_materialization_events() if e.asset_key == TOUCHPOINTS]
        assert len(events) == 31  # one per day of the run's range, each with the step's metadata
        meta = events[0].materialization.metadata
        return meta["files"].value, meta["files_skipped"].value

    assert files_read() == (0, 3)
    assert files_read(tags={FULL_REFRESH_TAG: "true"}) == (3, 0)
    monkeypatch.setenv("TOUCHLINE_FULL_REFRESH", "1")
    assert files_read() == (3, 0)
