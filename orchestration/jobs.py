"""Jobs and schedules."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from ingestion import state
from ingestion.contracts import Contract
from ingestion.landing import DayBounds
from ingestion.landing_zone import open_zone
from orchestration.landing_scan import scan_landing
from orchestration.partitions import bounds, clamp, range_tags, window
from touchline import settings as settings_module
from touchline.settings import ScheduleSettings

SCHEDULED = {"touchline/trigger": "nightly_schedule"}  # the tag of the schedule's runs

nightly_job = dg.define_asset_job(
    "nightly_job",
    selection=dg.AssetSelection.all(),
    description="Everything: normalize the landed exports of the run's days (daily partitions), check them, "
                "build and test the warehouse.",
)


def build_nightly_schedule(schedule: ScheduleSettings, contracts: dict[str, Contract],
                           partitions: dg.DailyPartitionsDefinition) -> dg.ScheduleDefinition:
    """The nightly run of `nightly_job`, at TOUCHLINE_SCHEDULE_CRON in TOUCHLINE_SCHEDULE_TIMEZONE
    (validated in touchline/settings.py). On by default: it runs whenever the Dagster daemon does.

    Each tick covers the day that just ended in the schedule's time zone (yesterday's partition) and
    every earlier day with files that are new or re-delivered since they were ingested (late
    deliveries the sensor has not picked up yet, e.g. while the daemon was down): one run over the
    range from the first of those days to the last."""

    @dg.schedule(
        name="nightly_schedule",
        job=nightly_job,
        cron_schedule=schedule.cron,
        execution_timezone=schedule.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Runs nightly_job at cron {schedule.cron!r} ({schedule.timezone}) for yesterday's partition and "
                    "any earlier day with new files; set TOUCHLINE_SCHEDULE_CRON / TOUCHLINE_SCHEDULE_TIMEZONE to change it.",
    )
    def nightly_schedule(context: dg.ScheduleEvaluationContext):
        days = nightly_days(context.scheduled_execution_time, schedule.timezone, contracts, partitions)
        return dg.RunRequest(tags=range_tags(days) | SCHEDULED)

    return nightly_schedule


def nightly_days(tick: datetime | None, timezone: str, contracts: dict[str, Contract],
                 partitions: dg.DailyPartitionsDefinition) -> DayBounds:
    """The days a nightly run covers: yesterday in `timezone` (as of `tick`, or now), every day with
    a new or re-delivered file, and every day with files read with another contract, normalizer or
    salt than the current ones (a new TOUCHLINE_SALT, a fixed contract: all of history is re-read)."""
    zone = ZoneInfo(timezone)
    yesterday = clamp(((tick or datetime.now(zone)).astimezone(zone) - timedelta(days=1)).date(), partitions)
    s = settings_module.load()
    days = {yesterday} | state.stale_days(s.lake, contracts, s.salt)
    if open_zone(s.landing).exists():
        days |= {f.day for f, _ in scan_landing(s.landing, s.lake, contracts, None, bounds(partitions)).new}
    return window(days, partitions)
