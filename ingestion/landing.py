"""The landing zone: `<root>/<source>/<YYYY-MM-DD>/<file>`, one folder per contract.

The root is a local folder or an object-store prefix (ingestion/landing_zone.py); discovery walks
both the same way, so files, strays and their relative paths are the same for the same files."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ingestion.contracts import Contract
from ingestion.landing_zone import LandingZone, open_zone
from touchline.settings import ObjectStore


@dataclass(frozen=True)
class LandedFile:
    source: str  # contract name
    day: date
    relative: str  # path relative to the landing root, as recorded in lineage
    size: int  # bytes, as listed
    mtime_ns: int | None = None  # last modified, as listed (a hint for the sensor; the checksum decides)


@dataclass(frozen=True)
class Stray:
    """Something in the landing zone that no contract reads: reported, never silently ignored."""

    relative: str
    reason: str


DayBounds = tuple[date, date]  # first and last landing day a run may read (the daily partitions), inclusive


def discover(landing: Path | ObjectStore | LandingZone, contracts: dict[str, Contract],
             bounds: DayBounds | None = None) -> tuple[list[LandedFile], list[Stray]]:
    """Every file a contract reads, and everything else as a stray with its reason. With `bounds`,
    a day folder outside them (before the first daily partition, or after the last) is a stray too:
    no partition could ever read it, so it is reported instead of waiting unseen."""
    zone = open_zone(landing)
    files: list[LandedFile] = []
    strays: list[Stray] = []
    for source_dir in _visible(zone.entries()):
        contract = contracts.get(source_dir.name)
        if source_dir.kind != "folder":
            strays.append(Stray(source_dir.relative, "file at the landing root; exports go in <source>/<YYYY-MM-DD>/"))
            continue
        if contract is None:
            strays.append(Stray(source_dir.relative, f"no contract named {source_dir.name!r} (known: {sorted(contracts)})"))
            continue
        for day_dir in _visible(zone.entries(source_dir.relative)):
            try:
                day = date.fromisoformat(day_dir.name)
            except ValueError:
                strays.append(Stray(day_dir.relative, "not a YYYY-MM-DD day folder"))
                continue
            if day_dir.kind != "folder":
                strays.append(Stray(day_dir.relative, "a file where a day folder was expected"))
                continue
            if bounds and not bounds[0] <= day <= bounds[1]:
                strays.append(Stray(day_dir.relative, _outside(day, bounds)))
                continue
            for entry in zone.entries(day_dir.relative):  # a hidden file that matches the glob is read too
                if entry.kind == "file" and fnmatch.fnmatchcase(entry.name, contract.file.glob):
                    files.append(LandedFile(contract.name, day, entry.relative, entry.size, entry.mtime_ns))
                elif not entry.name.startswith("."):
                    strays.append(Stray(entry.relative, f"does not match {contract.file.glob!r} of contract {contract.name}"))
    return files, strays


def _outside(day: date, bounds: DayBounds) -> str:
    if day < bounds[0]:
        return (f"day {day} is before the first daily partition {bounds[0]}: set TOUCHLINE_PARTITIONS_START "
                "to this day or earlier to read it")
    return f"day {day} is after the last daily partition {bounds[1]} (dated in the future): it is read once that day comes"


def in_bounds(day: date | None, bounds: DayBounds | None) -> bool:
    return bounds is None or (day is not None and bounds[0] <= day <= bounds[1])


def _visible(entries):
    return [e for e in entries if not e.name.startswith(".")]
