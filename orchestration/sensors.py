"""The landing sensor: a run of nightly_job soon after new or re-delivered files land, not only at night.

Each tick lists the landing zone (ingestion.landing.discover, the same rule ingestion uses) and
compares every file with what the lake holds (lake/_state/ingested.parquet, ingestion/state.py):
a file is *new* when the lake has no outputs of it or has them from other bytes, and the sensor
has not requested a run for these bytes already. Checksums are computed only for files whose size
or modification time differ from what was ingested or last seen, so an unchanged landing zone costs
a directory listing and a `stat` per file.

One run per tick, covering every new file of every day: nightly_job ingests the whole landing
zone incrementally and rebuilds the marts once, and DuckDB allows one writer, so one run per day
would only queue the same work several times. The run key is a hash of the new files' paths and
checksums: the same file seen twice (a lost cursor, two daemons) requests nothing new, a
re-delivery with other bytes gets a new key. The tags name the landing days, sources and files.

The cursor holds only files whose current checksum is not yet in the ingest state (requested and
waiting for their run, or re-written with the same bytes): an entry leaves it once a run ingested
or skipped the file, so it stays small however large the landing zone grows.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from ingestion import state
from ingestion.contracts import Contract
from ingestion.landing import LandedFile, discover
from ingestion.landing_zone import LandingZone, open_zone
from touchline.settings import ObjectStore
from orchestration.jobs import nightly_job
from touchline import settings as settings_module

CURSOR_VERSION = 1
MAX_LISTED = 10  # files / days named in full in a tag; the rest are counted


@dataclass
class LandingScan:
    landed: int  # files in the landing zone
    new: list[tuple[LandedFile, str]] = field(default_factory=list)  # (file, sha256) not yet ingested nor requested
    hashed: int = 0  # checksums computed this tick
    cursor: dict[str, list] = field(default_factory=dict)  # relative -> [size, mtime_ns, sha256]

    def cursor_text(self) -> str:
        return json.dumps({"v": CURSOR_VERSION, "files": self.cursor}, separators=(",", ":"), sort_keys=True)

    def run_key(self) -> str:
        digest = hashlib.sha256("\n".join(sorted(f"{f.relative}\t{sha}" for f, sha in self.new)).encode())
        return f"landing-{digest.hexdigest()[:32]}"

    def tags(self) -> dict[str, str]:
        days = sorted({f.day.isoformat() for f, _ in self.new})
        files = sorted(f.relative for f, _ in self.new)
        return {
            "touchline/trigger": "landing_sensor",
            "touchline/landing_days": _listed(days),
            "touchline/sources": _listed(sorted({f.source for f, _ in self.new})),
            "touchline/new_files": str(len(files)),
            "touchline/files": _listed(files),
        }


def _listed(items: list[str]) -> str:
    shown = ",".join(items[:MAX_LISTED])
    return shown if len(items) <= MAX_LISTED else f"{shown} (+{len(items) - MAX_LISTED} more)"


def parse_cursor(text: str | None) -> dict[str, list]:
    """The cursor's files; an empty or unreadable cursor (another version) is an empty cache: every
    file is then compared by checksum with the ingest state once, and nothing is requested twice."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data.get("files", {}) if isinstance(data, dict) and data.get("v") == CURSOR_VERSION else {}


def scan_landing(landing: Path | ObjectStore | LandingZone, lake: Path, contracts: dict[str, Contract], cursor: str | None) -> LandingScan:
    """What is new in the landing zone (a folder or an object-store prefix) since it was ingested
    or a run was requested for it."""
    zone = open_zone(landing)
    found, _ = discover(zone, contracts)
    ingested = state.load(lake)
    seen = parse_cursor(cursor)
    scan = LandingScan(landed=len(found))
    for landed in found:
        signature = [landed.size, landed.mtime_ns]
        lake_row = ingested.get(landed.relative)
        if lake_row and [lake_row["size"], lake_row["mtime_ns"]] == signature:
            continue  # as it was when ingested
        cached = seen.get(landed.relative)
        if cached and cached[:2] == signature:
            sha = cached[2]
        else:
            try:
                sha = hashlib.sha256(zone.read_bytes(landed.relative)).hexdigest()
            except OSError:
                continue  # unreadable right now (still being written, permissions): looked at again next tick
            scan.hashed += 1
        scan.cursor[landed.relative] = [*signature, sha]
        if lake_row and sha == lake_row["file_sha256"]:
            continue  # re-written with the bytes the lake already holds
        if cached and sha == cached[2]:
            continue  # a run was already requested for these bytes
        scan.new.append((landed, sha))
    return scan


def build_landing_sensor(contracts: dict[str, Contract], minimum_interval_seconds: int) -> dg.SensorDefinition:
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
        scan = scan_landing(s.landing, s.lake, contracts, context.cursor)
        if not scan.new:
            what = (f"no landed files in {s.landing}" if not scan.landed
                    else f"{scan.landed:,} landed files, none new or changed since ingested or requested")
            return dg.SensorResult(skip_reason=dg.SkipReason(what), cursor=scan.cursor_text())
        tags = scan.tags()
        context.log.info(f"{tags['touchline/new_files']} new or re-delivered files on {tags['touchline/landing_days']} "
                         f"({scan.hashed} checksums computed)")
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=scan.run_key(), tags=tags)], cursor=scan.cursor_text())

    return landing_sensor
