"""The landing sensor: a run of nightly_job soon after new or re-delivered files land, not only at night.

Each tick lists the landing zone and compares every file with what the lake holds
(orchestration/landing_scan.py): an unchanged landing zone costs a listing and a `stat` per file.

One run per tick, covering every new file of every day: the run's partitions are the range from the
first to the last day with a new file (orchestration/partitions.py), ingestion reads the new files of
those days and the warehouse is built once. DuckDB allows one writer, so one run per day would only
queue the same work several times. The run key is a hash of the new files' paths and checksums: the
same file seen twice (a lost cursor, two daemons) requests nothing new, a re-delivery with other
bytes gets a new key. The tags name the landing days, sources and files.

The cursor holds only files whose current checksum is not yet in the ingest state (requested and
waiting for their run, or re-written with the same bytes): an entry leaves it once a run ingested
or skipped the file, so it stays small however large the landing zone grows.
"""

import dagster as dg

from ingestion.contracts import Contract
from ingestion.landing_zone import open_zone
from orchestration.jobs import nightly_job
from orchestration.landing_scan import scan_landing
from orchestration.partitions import bounds, range_tags, window
from touchline import settings as settings_module


def build_landing_sensor(contracts: dict[str, Contract], minimum_interval_seconds: int,
                         partitions: dg.DailyPartitionsDefinition) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_sensor",
        job=nightly_job,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests a run of nightly_job when new or re-delivered files land (one run for all new days; "
                    f"run key from their checksums). Looks every {minimum_interval_seconds} s "
                    "(TOUCHLINE_SENSOR_INTERVAL_SECONDS).",
    )
    def landing_sensor(context: dg.SensorEvaluationContext):
        s = settings_module.load()
        if not open_zone(s.landing).exists():
            return dg.SkipReason(f"landing zone {s.landing} does not exist (TOUCHLINE_LANDING)")
        scan = scan_landing(s.landing, s.lake, contracts, context.cursor, bounds(partitions))
        if not scan.new:
            what = (f"no landed files in {s.landing}" if not scan.landed
                    else f"{scan.landed:,} landed files, none new or changed since ingested or requested")
            return dg.SensorResult(skip_reason=dg.SkipReason(what), cursor=scan.cursor_text())
        tags = scan.tags() | range_tags(window((f.day for f, _ in scan.new), partitions))
        context.log.info(f"{tags['touchline/new_files']} new or re-delivered files on {tags['touchline/landing_days']} "
                         f"({scan.hashed} checksums computed)")
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=scan.run_key(), tags=tags)], cursor=scan.cursor_text())

    return landing_sensor
