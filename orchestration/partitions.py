"""Daily partitions: a landing-zone day folder (`<source>/<YYYY-MM-DD>/`) is a partition of the
landing and ingestion assets; the warehouse (dbt) assets are not partitioned.

A run covers a range of days, always in one run (`BackfillPolicy.single_run()`): ingestion reads
the files of those days that changed, then dbt builds the warehouse once, incrementally, with the
range as the window vars (orchestration/dbt.py). A backfill of a month is therefore one run, not
thirty runs each rebuilding the marts and queueing on the one DuckDB writer.

The partitions run from TOUCHLINE_PARTITIONS_START to tomorrow (UTC): a vendor in a time zone
ahead of UTC may already deliver "today" while it is still yesterday in UTC. Day folders outside
that span are reported as strays, never silently left unread (ingestion/landing.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, PARTITION_NAME_TAG

from ingestion import state
from ingestion.contracts import Contract
from ingestion.landing import DayBounds, discover
from touchline.settings import ObjectStore

END_OFFSET = 2  # the last partition is tomorrow (UTC): see above


def daily_partitions(start: date) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), end_offset=END_OFFSET)


def bounds(partitions: dg.DailyPartitionsDefinition) -> DayBounds:
    """The first and last day a partition exists for, now."""
    last = partitions.get_last_partition_key()
    return partitions.start.date(), date.fromisoformat(last) if last else partitions.start.date()


def window(days: Iterable[date], partitions: dg.DailyPartitionsDefinition) -> DayBounds | None:
    """The smallest range of partitions holding every one of `days` that has a partition (None: none has)."""
    first, last = bounds(partitions)
    inside = [d for d in days if first <= d <= last]
    return (min(inside), max(inside)) if inside else None


def clamp(day: date, partitions: dg.DailyPartitionsDefinition) -> date:
    first, last = bounds(partitions)
    return min(max(day, first), last)


def range_tags(days: DayBounds) -> dict[str, str]:
    """The run tags that make a run of nightly_job cover these days (Dagster's single-run range)."""
    return {ASSET_PARTITION_RANGE_START_TAG: days[0].isoformat(), ASSET_PARTITION_RANGE_END_TAG: days[1].isoformat()}


def days_of_tags(tags: Mapping[str, str]) -> DayBounds | None:
    """The days a run covers, from its tags: a range, one partition, or None (not a partitioned run)."""
    if ASSET_PARTITION_RANGE_START_TAG in tags and ASSET_PARTITION_RANGE_END_TAG in tags:
        return date.fromisoformat(tags[ASSET_PARTITION_RANGE_START_TAG]), date.fromisoformat(tags[ASSET_PARTITION_RANGE_END_TAG])
    if tags.get(PARTITION_NAME_TAG):
        day = date.fromisoformat(tags[PARTITION_NAME_TAG])
        return day, day
    return None


def days_of_step(context: dg.AssetExecutionContext) -> DayBounds:
    """The days a partitioned step was asked to materialize (one partition or a range)."""
    keys = context.partition_key_range
    return date.fromisoformat(keys.start), date.fromisoformat(keys.end)


def days_of_run(context: dg.AssetExecutionContext) -> DayBounds | None:
    """The days the run covers, read by an unpartitioned step (dbt). A re-execution launched with
    `dg.execute_job` gets only the tags it is given (`touchline rerun` passes them on); without them
    they are read from the run it re-executes."""
    run = context.run
    days = days_of_tags(run.tags)
    while days is None and run.parent_run_id:
        parent = context.instance.get_run_by_id(run.parent_run_id)
        if parent is None:
            break
        run, days = parent, days_of_tags(parent.tags)
    return days


def landed_window(landing: Path | ObjectStore, lake: Path, contracts: dict[str, Contract], partitions: dg.DailyPartitionsDefinition,
                  as_of: date) -> DayBounds:
    """The days a run over the whole landing zone covers (`touchline run`): from the first to the last
    day with a landed file or with files in the lake (so that a full refresh also removes the rows of
    days no longer landed); `as_of`'s partition when there are none."""
    found, _ = discover(landing, contracts, bounds(partitions))
    days = {f.day for f in found} | {d for d in map(state.landed_day, state.files_in_lake(lake)) if d}
    return window(days, partitions) or (clamp(as_of, partitions),) * 2
