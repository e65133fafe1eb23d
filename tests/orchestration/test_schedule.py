"""The nightly schedule: cron and time zone from the settings, on by default, a run of nightly_job per tick."""

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._utils.schedules import schedule_execution_time_iterator

from ingestion.contracts import load_contracts
from ingestion.run import ingest
from orchestration.jobs import build_nightly_schedule
from orchestration.partitions import daily_partitions
from tests.helpers import SALT, write_export
from touchline import settings as settings_module
from touchline.settings import SettingsError

WEEKDAYS_BERLIN = {"TOUCHLINE_SCHEDULE_CRON": "30 3 * * 1-5", "TOUCHLINE_SCHEDULE_TIMEZONE": "Europe/Berlin"}
CONTRACTS = load_contracts()
PARTITIONS = daily_partitions(date(2026, 1, 1))


def schedule_of(env):
    return build_nightly_schedule(settings_module.load(env).schedule, CONTRACTS, PARTITIONS)


@pytest.fixture
def landing(tmp_path, monkeypatch):
    root = tmp_path / "landing"
    root.mkdir()
    monkeypatch.setenv("TOUCHLINE_LANDING", str(root))
    monkeypatch.setenv("TOUCHLINE_LAKE", str(tmp_path / "lake"))
    monkeypatch.setenv("TOUCHLINE_SALT", SALT)  # the salt the tests ingest with
    return root


def test_default_is_02_00_utc_every_day_and_on():
    schedule = schedule_of({})
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "nightly_job"


def test_cron_and_time_zone_follow_the_environment():
    schedule = schedule_of(WEEKDAYS_BERLIN)
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 3 * * 1-5", "Europe/Berlin")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    # from Thursday 2026-10-22 noon UTC: Friday, Monday and Tuesday at 03:30 Berlin time. Berlin leaves summer
    # time on Sunday 2026-10-25, so Friday's 03:30 was 01:30 UTC and Monday's is 02:30 UTC.
    ticks = schedule_execution_time_iterator(datetime(2026, 10, 22, 12, tzinfo=UTC).timestamp(),
                                             schedule.cron_schedule, schedule.execution_timezone)
    first = [next(ticks) for _ in range(3)]
    assert [t.isoformat() for t in first] == ["2026-10-23T03:30:00+02:00", "2026-10-26T03:30:00+01:00", "2026-10-27T03:30:00+01:00"]
    assert [t.astimezone(UTC).strftime("%a %H:%M") for t in first] == ["Fri 01:30", "Mon 02:30", "Tue 02:30"]


def evaluate(schedule, tick):
    with dg.instance_for_test() as instance:
        data = schedule.evaluate_tick(dg.build_schedule_context(instance=instance, scheduled_execution_time=tick))
    assert data.skip_message is None
    [request] = data.run_requests
    return request


MONDAY_BERLIN = datetime(2026, 10, 26, 3, 30, tzinfo=timezone(timedelta(hours=1)))
MAILCHIMP_ROW = ["Weekly Newsletter", "c2", "open"]


def test_a_tick_requests_a_run_of_the_nightly_job_for_yesterday(landing):
    request = evaluate(schedule_of(WEEKDAYS_BERLIN), MONDAY_BERLIN)
    assert request.job_name in (None, "nightly_job")  # None: the schedule's own job, nightly_job
    assert request.tags["dagster/schedule_name"] == "nightly_schedule"
    assert request.partition_key_range == dg.PartitionKeyRange("2026-10-25", "2026-10-25")  # Sunday, Berlin


def test_yesterday_is_the_day_that_ended_in_the_schedules_time_zone(landing):
    """00:30 in Tokyo on 2026-10-27 is still 2026-10-26 in UTC: Tokyo's yesterday is the 26th, UTC's the 25th."""
    tick = datetime(2026, 10, 27, 0, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    tokyo = schedule_of({"TOUCHLINE_SCHEDULE_CRON": "30 0 * * *", "TOUCHLINE_SCHEDULE_TIMEZONE": "Asia/Tokyo"})
    assert evaluate(tokyo, tick).partition_key_range == dg.PartitionKeyRange("2026-10-26", "2026-10-26")
    utc = schedule_of({"TOUCHLINE_SCHEDULE_CRON": "30 15 * * *"})
    assert evaluate(utc, tick.astimezone(UTC)).partition_key_range == dg.PartitionKeyRange("2026-10-25", "2026-10-25")


def test_a_tick_also_covers_earlier_days_with_files_not_yet_ingested(landing):
    """A file landed on the 20th was never ingested (the daemon was down): tonight's run covers the
    20th to yesterday; once it is ingested, the next tick covers yesterday alone."""
    write_export(landing, "mailchimp_activity", "2026-10-20",
                 [["a@example.com", "A", "A", *MAILCHIMP_ROW, "2026-10-20 10:00:00", ""]])
    schedule = schedule_of(WEEKDAYS_BERLIN)
    assert evaluate(schedule, MONDAY_BERLIN).partition_key_range == dg.PartitionKeyRange("2026-10-20", "2026-10-25")
    s = settings_module.load()
    ingest(s.landing, s.lake, CONTRACTS, salt=SALT).write(s.lake)
    assert evaluate(schedule, MONDAY_BERLIN).partition_key_range == dg.PartitionKeyRange("2026-10-25", "2026-10-25")


def test_after_a_salt_change_a_tick_covers_every_day_read_with_the_old_salt(landing, monkeypatch):
    """A new TOUCHLINE_SALT changes every person key: the files of earlier days must be read again,
    not only yesterday's (else old and new days would hold two keys for one person)."""
    write_export(landing, "mailchimp_activity", "2026-10-20",
                 [["a@example.com", "A", "A", *MAILCHIMP_ROW, "2026-10-20 10:00:00", ""]])
    s = settings_module.load()
    ingest(s.landing, s.lake, CONTRACTS, salt=SALT).write(s.lake)
    schedule = schedule_of(WEEKDAYS_BERLIN)
    assert evaluate(schedule, MONDAY_BERLIN).partition_key_range == dg.PartitionKeyRange("2026-10-25", "2026-10-25")
    monkeypatch.setenv("TOUCHLINE_SALT", "a-new-secret")
    assert evaluate(schedule, MONDAY_BERLIN).partition_key_range == dg.PartitionKeyRange("2026-10-20", "2026-10-25")


def test_the_definitions_use_the_configured_schedule(monkeypatch):
    """orchestration.definitions builds the schedule from the environment it is loaded in."""
    import importlib

    import orchestration.definitions as definitions

    for name, value in WEEKDAYS_BERLIN.items():
        monkeypatch.setenv(name, value)
    try:
        schedule = importlib.reload(definitions).defs.resolve_schedule_def("nightly_schedule")
        assert (schedule.cron_schedule, schedule.execution_timezone) == ("30 3 * * 1-5", "Europe/Berlin")
    finally:
        monkeypatch.undo()
        importlib.reload(definitions)


@pytest.mark.parametrize(("env", "message"), [
    ({"TOUCHLINE_SCHEDULE_CRON": "0 2 * *"}, "TOUCHLINE_SCHEDULE_CRON='0 2 * *' is not a 5-field cron string"),
    ({"TOUCHLINE_SCHEDULE_CRON": "0 25 * * *"}, "TOUCHLINE_SCHEDULE_CRON='0 25 * * *' is not a 5-field cron string"),
    ({"TOUCHLINE_SCHEDULE_CRON": "0 0 2 * * *"}, "TOUCHLINE_SCHEDULE_CRON='0 0 2 * * *' is not a 5-field cron string"),
    ({"TOUCHLINE_SCHEDULE_CRON": "0 2 30 2 *"}, "TOUCHLINE_SCHEDULE_CRON='0 2 30 2 *' is not a 5-field cron string"),
    ({"TOUCHLINE_SCHEDULE_CRON": "nightly"}, "TOUCHLINE_SCHEDULE_CRON='nightly' is not a 5-field cron string"),
    ({"TOUCHLINE_SCHEDULE_TIMEZONE": "Europe/Springfield"}, "TOUCHLINE_SCHEDULE_TIMEZONE='Europe/Springfield' is not an IANA time zone"),
    ({"TOUCHLINE_SCHEDULE_TIMEZONE": "+02:00"}, "TOUCHLINE_SCHEDULE_TIMEZONE='+02:00' is not an IANA time zone"),
    ({"TOUCHLINE_SENSOR_INTERVAL_SECONDS": "5"}, "TOUCHLINE_SENSOR_INTERVAL_SECONDS='5' must be at least 10"),
    ({"TOUCHLINE_SENSOR_INTERVAL_SECONDS": "1m"}, "TOUCHLINE_SENSOR_INTERVAL_SECONDS='1m' is not a whole number"),
    ({"TOUCHLINE_FULL_REFRESH": "please"}, "TOUCHLINE_FULL_REFRESH='please' is not a yes/no value"),
    ({"TOUCHLINE_PARTITIONS_START": "1.1.2026"}, "TOUCHLINE_PARTITIONS_START='1.1.2026' is not a YYYY-MM-DD date"),
    ({"TOUCHLINE_PARTITIONS_START": "2999-01-01"}, "TOUCHLINE_PARTITIONS_START='2999-01-01' is in the future"),
])
def test_bad_values_are_refused_naming_the_variable(env, message):
    with pytest.raises(SettingsError) as raised:
        settings_module.load(env)
    assert str(raised.value).startswith(message)


def test_other_good_values():
    s = settings_module.load({"TOUCHLINE_SCHEDULE_CRON": " 15  4 * * 0 ", "TOUCHLINE_SCHEDULE_TIMEZONE": "America/New_York",
                              "TOUCHLINE_SENSOR_INTERVAL_SECONDS": "300", "TOUCHLINE_FULL_REFRESH": "yes"})
    assert (s.schedule.cron, s.schedule.timezone, s.schedule.sensor_interval_seconds, s.full_refresh) == (
        "15 4 * * 0", "America/New_York", 300, True)
    assert settings_module.load({"TOUCHLINE_FULL_REFRESH": "0"}).full_refresh is False
    assert settings_module.load({}).full_refresh is False
