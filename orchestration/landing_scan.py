"""What is new in the landing zone since it was ingested or a run was requested for it: what the
landing sensor and the nightly schedule look at (orchestration/sensors.py, orchestration/jobs.py).

Every file is compared with what the lake holds (lake/_state/ingested.parquet, ingestion/state.py):
a file is *new* when the lake has no outputs of it or has them from other bytes, and no run was
requested for these bytes already (the cursor). Checksums are computed only for files whose size
or modification time differ from what was ingested or last seen, so an unchanged landing zone costs
a directory listing and a `stat` per file.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ingestion import state
from ingestion.contracts import Contract
from ingestion.landing import DayBounds, LandedFile, discover
from ingestion.landing_zone import LandingZone, open_zone
from touchline.settings import ObjectStore

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


def scan_landing(landing: Path | ObjectStore | LandingZone, lake: Path, contracts: dict[str, Contract], cursor: str | None,
                 bounds: DayBounds | None = None) -> LandingScan:
    """What is new in the landing zone (a folder or an object-store prefix) since it was ingested
    or a run was requested for it; with `bounds`, only in the days a partition exists for."""
    zone = open_zone(landing)
    found, _ = discover(zone, contracts, bounds)
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
