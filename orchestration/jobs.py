"""Jobs and schedules."""

from __future__ import annotations

import dagster as dg

from touchline.settings import ScheduleSettings

nightly_job = dg.define_asset_job(
    "nightly_job",
    selection=dg.AssetSelection.all(),
    description="Everything: normalize landed exports, check them, build and test the warehouse.",
)


def build_nightly_schedule(schedule: ScheduleSettings) -> dg.ScheduleDefinition:
    """The nightly run of `nightly_job`, at TOUCHLINE_SCHEDULE_CRON in TOUCHLINE_SCHEDULE_TIMEZONE
    (validated in touchline/settings.py). On by default: it runs whenever the Dagster daemon does."""
    return dg.ScheduleDefinition(
        name="nightly_schedule",
        job=nightly_job,
        cron_schedule=schedule.cron,
        execution_timezone=schedule.timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Runs nightly_job at cron {schedule.cron!r} ({schedule.timezone}); "
                    "set TOUCHLINE_SCHEDULE_CRON / TOUCHLINE_SCHEDULE_TIMEZONE to change it.",
    )
