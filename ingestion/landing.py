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


def discover(landing: Path | ObjectStore | LandingZone, contracts: dict[str, Contract]) -> tuple[list[LandedFile], list[Stray]]:
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
            for entry in zone.entries(day_dir.relative):  # a hidden file that matches the glob is read too
                if entry.kind == "file" and fnmatch.fnmatchcase(entry.name, contract.file.glob):
                    files.append(LandedFile(contract.name, day, entry.relative, entry.size, entry.mtime_ns))
                elif not entry.name.startswith("."):
                    strays.append(Stray(entry.relative, f"does not match {contract.file.glob!r} of contract {contract.name}"))
    return files, strays


def _visible(entries):
    return [e for e in entries if not e.name.startswith(".")]
