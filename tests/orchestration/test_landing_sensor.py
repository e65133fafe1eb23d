"""The landing sensor (orchestration/sensors.py): ticks evaluated against a real (ephemeral) Dagster
instance, with the cursor carried from tick to tick as the daemon does."""

import hashlib
import os
from datetime import date

import dagster as dg
import pytest

from ingestion.contracts import load_contracts
from ingestion.run import ingest
from orchestration.landing_scan import scan_landing
from orchestration.partitions import daily_partitions
from orchestration.sensors import build_landing_sensor
from tests.helpers import SALT, write_export

CONTRACTS = load_contracts()
PARTITIONS = daily_partitions(date(2026, 1, 1))
OPEN = ["Weekly Newsletter", "c2", "open"]
MAILCHIMP = "mailchimp_activity/2026-10-05/export.csv"
SPEND = "meta_ads_campaign_day/2026-10-04/export.csv"


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    landing.mkdir()
    monkeypatch.setenv("TOUCHLINE_LANDING", str(landing))
    monkeypatch.setenv("TOUCHLINE_LAKE", str(lake))
    return landing, lake


@pytest.fixture(scope="module")
def instance():
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture(scope="module")
def sensor():
    return build_landing_sensor(CONTRACTS, 60, PARTITIONS)


def tick(sensor, instance, cursor=None):
    return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))


def mailchimp(landing, emails=("a@example.com",)):
    return write_export(landing, "mailchimp_activity", "2026-10-05",
                        [[e, "A", "A", *OPEN, "2026-10-05 10:00:00", ""] for e in emails])


def expected_key(*files_and_paths) -> str:
    """The run key computed independently: sha256 over 'relative<TAB>sha256 of its bytes' lines, sorted."""
    lines = sorted(f"{rel}\t{hashlib.sha256(path.read_bytes()).hexdigest()}" for rel, path in files_and_paths)
    return "landing-" + hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]


def test_the_sensor_is_on_and_runs_the_nightly_job(sensor):
    assert sensor.job_name == "nightly_job"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 60


def test_no_file_skips(dirs, sensor, instance):
    landing, _ = dirs
    result = tick(sensor, instance)
    assert result.run_requests == []
    assert result.skip_message == f"no landed files in {landing}"


def test_a_missing_landing_zone_skips_naming_the_setting(dirs, sensor, instance):
    landing, _ = dirs
    landing.rmdir()
    assert tick(sensor, instance).skip_message == f"landing zone {landing} does not exist (TOUCHLINE_LANDING)"


def test_a_new_file_requests_one_run_for_its_day(dirs, sensor, instance):
    landing, _ = dirs
    path = mailchimp(landing)
    result = tick(sensor, instance)
    [request] = result.run_requests
    assert request.run_key == expected_key((MAILCHIMP, path))
    assert request.tags["touchline/landing_days"] == "2026-10-05"
    assert request.partition_key_range == dg.PartitionKeyRange("2026-10-05", "2026-10-05")  # the run covers its day
    assert request.tags["touchline/files"] == MAILCHIMP
    assert (request.tags["touchline/new_files"], request.tags["touchline/sources"]) == ("1", "mailchimp_activity")


def test_new_files_of_several_days_share_one_run(dirs, sensor, instance):
    landing, _ = dirs
    m = mailchimp(landing)
    s = write_export(landing, "meta_ads_campaign_day", "2026-10-04", [["2026-10-04", "2026-10-04", "Brand", "222", "500", "3", "4.20"]])
    [request] = tick(sensor, instance).run_requests
    assert request.run_key == expected_key((MAILCHIMP, m), (SPEND, s))
    assert request.tags["touchline/landing_days"] == "2026-10-04,2026-10-05"
    assert request.partition_key_range == dg.PartitionKeyRange("2026-10-04", "2026-10-05")  # one run over both days
    assert request.tags["touchline/sources"] == "mailchimp_activity,meta_ads_campaign_day"
    assert request.tags["touchline/new_files"] == "2"


def test_a_late_file_widens_the_run_to_its_day(dirs, sensor, instance):
    """A re-delivered day a week back and today's file: one run from the older day to today (the days
    between hold no new file: ingestion skips their files unread, by checksum)."""
    landing, _ = dirs
    write_export(landing, "mailchimp_activity", "2026-10-12", [["c@example.com", "C", "C", *OPEN, "2026-10-12 09:00:00", ""]])
    mailchimp(landing)
    [request] = tick(sensor, instance).run_requests
    assert request.partition_key_range == dg.PartitionKeyRange("2026-10-05", "2026-10-12")


def test_a_day_before_the_first_partition_is_reported_not_requested(dirs, instance):
    landing, lake = dirs
    write_export(landing, "mailchimp_activity", "2025-12-31", [["c@example.com", "C", "C", *OPEN, "2025-12-31 09:00:00", ""]])
    result = tick(build_landing_sensor(CONTRACTS, 60, PARTITIONS), instance)
    assert result.run_requests == [] and result.skip_message == f"no landed files in {landing}"
    from ingestion.landing import discover

    [stray] = discover(landing, CONTRACTS, (date(2026, 1, 1), date(2026, 12, 31)))[1]
    assert stray.relative == "mailchimp_activity/2025-12-31"
    assert stray.reason.startswith("day 2025-12-31 is before the first daily partition 2026-01-01: set TOUCHLINE_PARTITIONS_START")


def test_the_same_file_on_the_next_tick_requests_nothing(dirs, sensor, instance):
    landing, lake = dirs
    mailchimp(landing)
    first = tick(sensor, instance)
    assert len(first.run_requests) == 1
    second = tick(sensor, instance, first.cursor)
    assert second.run_requests == []
    assert second.skip_message == "1 landed files, none new or changed since ingested or requested"
    # and nothing was hashed again: the cursor knew the file's size and modification time
    assert scan_landing(landing, lake, CONTRACTS, first.cursor).hashed == 0
    # a lost cursor asks again, with the same run key: Dagster starts no second run for a key it has seen
    assert tick(sensor, instance).run_requests[0].run_key == first.run_requests[0].run_key


def test_the_same_bytes_written_again_request_nothing(dirs, sensor, instance):
    landing, _ = dirs
    path = mailchimp(landing)
    first = tick(sensor, instance)
    stat = path.stat()
    path.write_bytes(path.read_bytes())
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # certainly a new modification time
    second = tick(sensor, instance, first.cursor)
    assert second.run_requests == [] and second.skip_message.endswith("none new or changed since ingested or requested")


def test_a_redelivery_with_other_bytes_requests_a_new_run(dirs, sensor, instance):
    landing, _ = dirs
    mailchimp(landing)
    first = tick(sensor, instance)
    path = mailchimp(landing, emails=("a@example.com", "b@example.com"))  # the vendor re-sends the day, one more open
    second = tick(sensor, instance, first.cursor)
    [request] = second.run_requests
    assert request.run_key == expected_key((MAILCHIMP, path)) != first.run_requests[0].run_key
    assert request.tags["touchline/landing_days"] == "2026-10-05"


def test_once_ingested_the_lake_is_the_baseline_and_the_cursor_empties(dirs, sensor, instance):
    """A fresh daemon (no cursor) over a lake that already holds the landing zone requests nothing,
    and a file's cursor entry goes once a run ingested it."""
    landing, lake = dirs
    mailchimp(landing)
    first = tick(sensor, instance)
    assert MAILCHIMP in first.cursor
    ingest(landing, lake, CONTRACTS, salt=SALT).write(lake)  # the requested run
    after = tick(sensor, instance, first.cursor)
    assert after.run_requests == [] and after.cursor == '{"files":{},"v":1}'
    assert tick(sensor, instance).run_requests == []  # no cursor at all
    assert scan_landing(landing, lake, CONTRACTS, None).hashed == 0  # size and mtime match the ingest state
    # a re-delivery after ingestion is new again
    mailchimp(landing, emails=("b@example.com",))
    assert len(tick(sensor, instance, after.cursor).run_requests) == 1


def test_the_definitions_include_the_sensor_with_the_configured_interval(monkeypatch):
    import importlib

    import orchestration.definitions as definitions

    monkeypatch.setenv("TOUCHLINE_SENSOR_INTERVAL_SECONDS", "300")
    try:
        sensor = importlib.reload(definitions).defs.resolve_sensor_def("landing_sensor")
        assert sensor.minimum_interval_seconds == 300
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    finally:
        monkeypatch.undo()
        importlib.reload(definitions)
