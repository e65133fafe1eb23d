"""A landing zone on object storage: the same files in a local folder and under an s3:// prefix of
an S3-compatible server (moto, on loopback) give the same discovery, lake, load_log, quarantine and
strays. Transient storage errors are retried; a missing bucket or refused credentials fail fast
with a message that names the URL.

Requests go through a proxy (tests/s3_server.py) that can fail them on purpose."""

from dataclasses import replace
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from ingestion.contracts import load_contracts
from ingestion.landing import Stray, discover
from ingestion.landing_zone import LandingZoneError
from ingestion.object_store import ObjectStoreZone, filesystem
from ingestion.run import ingest
from tests.helpers import OCTOBER_2026, SALT, write_export
from tests.s3_server import FaultProxy, MotoServer, s3_env, upload_folder
from tests.test_pipeline_end_to_end import tiny_landing
from touchline.settings import ObjectStore

CONTRACTS = load_contracts()
BUCKET = "touchline-landing"
PREFIX = "exports/nightly"
URL = f"s3://{BUCKET}/{PREFIX}"
LAKE_TABLES = ("touchpoints", "ad_spend", "quarantine", "identity_links")
RUN_COLUMNS = ("ingested_at", "batch_id")  # differ between two ingestions of the same files


def landing_with_strays(root: Path) -> None:
    """The hand-checked tiny landing zone (17 files, 19 rows; tests/test_pipeline_end_to_end.py),
    an empty export (one rejected file), and one stray of every kind."""
    tiny_landing(root)
    write_export(root, "zendesk_tickets", "2026-10-07", [], name="empty.csv")
    (root / "zendesk_tickets" / "2026-10-07" / "empty.csv").write_bytes(b"")
    (root / "README.txt").write_text("exports land here\n")  # file at the landing root
    write_export(root, "salesforce_leads", "2026-10-01", [["x"]], header=["Id"])  # no such contract
    (root / "empty_vendor").mkdir()  # an empty folder of no contract: a folder marker object on S3
    write_export(root, "shopify_orders", "latest", [], name="orders.csv")  # not a day folder
    (root / "shopify_orders" / "2026-10-03" / "notes.txt").write_text("re-delivered\n")  # does not match *.csv
    (root / "mailchimp_activity" / "2026-10-06").write_text("a file named like a day\n")
    (root / ".DS_Store").write_bytes(b"\0")  # hidden: ignored on both
    (root / "shopify_orders" / "2026-10-03" / ".export.csv.swp").write_bytes(b"\0")


EXPECTED_STRAYS = [
    Stray("README.txt", "file at the landing root; exports go in <source>/<YYYY-MM-DD>/"),
    Stray("empty_vendor", f"no contract named 'empty_vendor' (known: {sorted(CONTRACTS)})"),
    Stray("mailchimp_activity/2026-10-06", "a file where a day folder was expected"),
    Stray("salesforce_leads", f"no contract named 'salesforce_leads' (known: {sorted(CONTRACTS)})"),
    Stray("shopify_orders/2026-10-03/notes.txt", "does not match '*.csv' of contract shopify_orders"),
    Stray("shopify_orders/latest", "not a YYYY-MM-DD day folder"),
]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """moto on loopback, a proxy in front of it, the standard AWS variables pointing at the proxy,
    and the same landing zone in a local folder and under s3://touchline-landing/exports/nightly."""
    server = MotoServer().start()
    proxy = FaultProxy(server.port).start()
    local = tmp_path_factory.mktemp("s3-landing") / "landing"
    landing_with_strays(local)
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
            mp.delenv(name, raising=False)
        for name, value in s3_env(proxy.url).items():
            mp.setenv(name, value)
        fs = filesystem(ObjectStore(f"s3://{BUCKET}", server.url))
        fs.mkdir(BUCKET)
        upload_folder(fs, local, f"{BUCKET}/{PREFIX}")
        fs.pipe_file(f"{BUCKET}/{PREFIX}-old/ad_clicks/2026-09-01/export.csv", b"a sibling prefix: not part of the zone\n")
        yield {"local": local, "fs": fs, "server": server, "proxy": proxy}
    proxy.stop()
    server.stop()


@pytest.fixture
def proxy(s3):
    p = s3["proxy"]
    p.faults.clear()
    p.fail_always = p.only = None
    p.injected.clear()
    yield p
    p.faults.clear()
    p.fail_always = None


def store(s3, url: str = URL, **kw) -> ObjectStore:
    return ObjectStore(url, endpoint_url=s3["proxy"].url, **kw)


def lake_frames(lake: Path) -> dict[str, pl.DataFrame]:
    """Every lake table but the run's columns, and the lake's file layout."""
    out = {t: pl.read_parquet((lake / t / "**" / "*.parquet").as_posix()).drop(RUN_COLUMNS, strict=False) for t in LAKE_TABLES}
    out["files"] = pl.DataFrame({"path": sorted(p.relative_to(lake).as_posix() for t in LAKE_TABLES for p in (lake / t).rglob("*.parquet"))})
    return out


def assert_same_lake(a: Path, b: Path) -> None:
    left, right = lake_frames(a), lake_frames(b)
    for name in left:
        assert_frame_equal(left[name], right[name], check_row_order=False)


def test_discovery_from_s3_equals_the_local_copy(s3, proxy):
    local_files, local_strays = discover(s3["local"], CONTRACTS)
    s3_files, s3_strays = discover(store(s3), CONTRACTS)
    # the same files, sizes and lineage paths; last-modified times are the store's own (a change hint only)
    assert [replace(f, mtime_ns=None) for f in s3_files] == [replace(f, mtime_ns=None) for f in local_files]
    assert all(f.mtime_ns for f in s3_files) and all(f.mtime_ns for f in local_files)
    assert len(s3_files) == 18  # tiny's 17 exports + the empty one
    assert ("zendesk_tickets", "zendesk_tickets/2026-10-07/empty.csv", 0) in [(f.source, f.relative, f.size) for f in s3_files]
    assert s3_strays == local_strays == EXPECTED_STRAYS
    assert not any("-old" in f.relative for f in s3_files)  # the sibling prefix nightly-old is another zone


def test_ingestion_from_s3_gives_the_same_lake_load_log_and_quarantine_as_the_local_copy(s3, proxy, tmp_path):
    local = ingest(s3["local"], tmp_path / "local", CONTRACTS, salt=SALT, batch_id="local")
    remote = ingest(store(s3), tmp_path / "s3", CONTRACTS, salt=SALT, batch_id="s3")
    # tiny: 19 rows read = 17 loaded + 1 quarantined (cut line) + 1 duplicate; the empty file is rejected whole
    assert remote.totals() == local.totals() == {"rows_read": 19, "rows_loaded": 17, "rows_quarantined": 1, "duplicates_dropped": 1,
                                                 "files": 18, "files_rejected": 1, "strays": 6,
                                                 "files_skipped": 0, "files_missing": 0, "files_removed": 0}
    assert remote.strays == local.strays
    assert_frame_equal(remote.load_log().drop(RUN_COLUMNS), local.load_log().drop(RUN_COLUMNS))  # incl. each file's sha256
    assert_same_lake(tmp_path / "local", tmp_path / "s3")
    quarantine = pl.read_parquet((tmp_path / "s3" / "quarantine" / "**" / "*.parquet").as_posix()).sort("source_file")
    assert quarantine.select("source_file", "source_line").rows() == [
        ("shopify_orders/2026-10-15/export.csv", 3), ("zendesk_tickets/2026-10-07/empty.csv", 0)]
    assert quarantine["reason"][1] == "file unreadable: empty file (0 bytes or only whitespace): the export produced nothing"
    assert proxy.injected == []


def test_transient_storage_errors_are_retried_and_the_ingestion_succeeds(s3, proxy, tmp_path):
    """Two failures while listing and three while reading: botocore's retries absorb them."""
    ingest(s3["local"], tmp_path / "local", CONTRACTS, salt=SALT)
    proxy.only = "list"
    proxy.fail_next("503", "drop")
    zone = ObjectStoreZone(store(s3))
    zone.entries()  # lists the zone once, through both failures
    assert [f for f, _, _ in proxy.injected] == ["503", "drop"] and not proxy.faults
    proxy.only = "get_object"
    proxy.fail_next("503", "drop", "503")
    ingest(zone, tmp_path / "s3", CONTRACTS, salt=SALT)
    assert [f for f, _, _ in proxy.injected] == ["503", "drop", "503", "drop", "503"] and not proxy.faults
    assert_same_lake(tmp_path / "local", tmp_path / "s3")


def test_storage_failing_after_the_retries_stops_the_ingestion_with_the_url(s3, proxy, tmp_path):
    proxy.only = "get_object"
    proxy.fail_always = "503"
    with pytest.raises(LandingZoneError) as failed:
        ingest(store(s3, max_attempts=2), tmp_path / "lake", CONTRACTS, salt=SALT)
    message = str(failed.value)
    assert failed.value.retryable  # the step may be tried again later
    assert f"reading {URL}/ad_clicks/2026-10-01/export.csv failed after retrying with backoff (2 attempts per request" in message
    assert message.startswith(f"landing zone {URL} (TOUCHLINE_LANDING) at {proxy.url}: ")
    assert "injected by the test proxy" in message  # the server's own words
    assert len(proxy.injected) == 2  # AWS_MAX_ATTEMPTS=2: the first try and one retry
    # the file is not quarantined as unreadable: the storage failed, not the export
    assert not (tmp_path / "lake" / "quarantine" / "ad_clicks").exists()


def test_a_missing_bucket_fails_fast_with_the_url_and_what_to_check(s3, proxy):
    before = proxy.forwarded
    with pytest.raises(LandingZoneError) as failed:
        discover(store(s3, "s3://no-such-bucket/exports"), CONTRACTS)
    assert not failed.value.retryable
    assert str(failed.value).startswith(f"landing zone s3://no-such-bucket/exports (TOUCHLINE_LANDING) at {proxy.url}: listing failed: "
                                        "bucket 'no-such-bucket' does not exist")
    assert "Check the bucket name in TOUCHLINE_LANDING and the endpoint (AWS_ENDPOINT_URL)" in str(failed.value)
    assert proxy.forwarded - before == 1  # not retried


def test_refused_credentials_fail_fast_and_say_which_variables(s3, tmp_path):
    checking = MotoServer({"INITIAL_NO_AUTH_ACTION_COUNT": "0"}).start()  # this one knows no access key at all
    try:
        with pytest.raises(LandingZoneError) as failed:
            ObjectStoreZone(ObjectStore(URL, endpoint_url=checking.url)).entries()
    finally:
        checking.stop()
    message = str(failed.value)
    assert not failed.value.retryable
    assert message.startswith(f"landing zone {URL} (TOUCHLINE_LANDING) at {checking.url}: listing failed: access denied")
    assert "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY" in message and f"s3:ListBucket on {BUCKET!r}" in message


def test_an_object_deleted_after_listing_is_one_rejected_file_and_the_rest_loads(s3, proxy, tmp_path):
    fs = s3["fs"]
    upload_folder(fs, s3["local"], f"{BUCKET}/vanishing")
    zone = ObjectStoreZone(store(s3, f"s3://{BUCKET}/vanishing"))
    zone.entries()  # listed ...
    fs.rm_file(f"{BUCKET}/vanishing/referral_events/2026-10-11/export.csv")  # ... then gone before it is read
    report = ingest(zone, tmp_path / "lake", CONTRACTS, salt=SALT)
    gone = next(f for f in report.files if f["source_file"] == "referral_events/2026-10-11/export.csv")
    assert (gone["rows_read"], gone["file_rejected"]) == (0, True)
    assert report.totals()["rows_loaded"] == 17 - 1  # Alice's invite is the one row it held
    reason = pl.read_parquet(tmp_path / "lake" / "quarantine" / "referral_events" / "2026-10-11" / "export.csv.parquet")["reason"].to_list()
    assert reason == [f"file unreadable: [Errno 2] no such object (deleted after the landing zone was listed?): "
                      f"'s3://{BUCKET}/vanishing/referral_events/2026-10-11/export.csv'"]


def test_touchline_run_refuses_a_missing_bucket_or_an_empty_prefix_before_starting(s3, proxy, tmp_path, monkeypatch):
    from touchline.cli import app

    monkeypatch.setenv("TOUCHLINE_DATA", str(tmp_path))
    for name in ("TOUCHLINE_LAKE", "TOUCHLINE_WAREHOUSE", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TOUCHLINE_LANDING", "s3://no-such-bucket/exports")
    result = CliRunner().invoke(app, ["run"])
    output = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Cannot run: landing zone s3://no-such-bucket/exports (TOUCHLINE_LANDING)" in output and "does not exist" in output
    monkeypatch.setenv("TOUCHLINE_LANDING", f"s3://{BUCKET}/exports/nothing-here/")
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2, result.output
    assert f"Landing zone s3://{BUCKET}/exports/nothing-here (TOUCHLINE_LANDING) holds no objects" in " ".join(result.output.split())


def _normalize_run(tmp_path, monkeypatch, landing: str) -> dg.ExecuteInProcessResult:
    from orchestration.normalize import build_normalize_asset
    from orchestration.partitions import daily_partitions
    from orchestration.resources import TouchlineResource

    monkeypatch.setenv("TOUCHLINE_DATA", str(tmp_path))
    monkeypatch.setenv("TOUCHLINE_LANDING", landing)
    monkeypatch.setenv("TOUCHLINE_SALT", SALT)
    for name in ("TOUCHLINE_LAKE", "TOUCHLINE_WAREHOUSE", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    return dg.materialize([build_normalize_asset(CONTRACTS, daily_partitions(date(2026, 1, 1)))], resources={"touchline": TouchlineResource()},
                          tags=OCTOBER_2026, raise_on_error=False)


def test_the_ingestion_step_reads_s3_and_does_not_retry_a_missing_bucket(s3, proxy, tmp_path, monkeypatch):
    good = _normalize_run(tmp_path / "good", monkeypatch, URL)
    assert good.success
    assert good.asset_materializations_for_node("normalize_exports")[0].metadata["rows_read"].value == 19
    bad = _normalize_run(tmp_path / "bad", monkeypatch, "s3://no-such-bucket/exports")
    assert not bad.success
    [failure] = bad.get_step_failure_events()
    assert "bucket 'no-such-bucket' does not exist" in failure.step_failure_data.user_failure_data.description
    assert not [e for e in bad.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]  # no retry of a permanent error


def test_local_landing_zone_needs_no_object_store_library(tmp_path):
    """A local folder never imports s3fs (nor botocore): nothing changes for local users."""
    import subprocess
    import sys

    write_export(tmp_path, "shopify_orders", "2026-10-03", [])
    code = ("import sys; from ingestion.contracts import load_contracts; from ingestion.landing import discover; "
            f"discover({str(tmp_path)!r}, load_contracts()); print('s3fs' in sys.modules, 'botocore' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent.parent).stdout.split()
    assert out == ["False", "False"]
