"""The landing zone: `<root>/<source>/<YYYY-MM-DD>/<file>`, one folder per contract."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ingestion.contracts import Contract


@dataclass(frozen=True)
class LandedFile:
    source: str  # contract name
    day: date
    path: Path
    relative: str  # path relative to the landing root, as recorded in lineage


@dataclass(frozen=True)
class Stray:
    """Something in the landing zone that no contract reads: reported, never silently ignored."""

    relative: str
    reason: str


def discover(root: Path, contracts: dict[str, Contract]) -> tuple[list[LandedFile], list[Stray]]:
    files: list[LandedFile] = []
    strays: list[Stray] = []
    if not root.exists():
        return files, strays
    for source_dir in sorted(p for p in root.iterdir() if not p.name.startswith(".")):
        rel = source_dir.relative_to(root).as_posix()
        contract = contracts.get(source_dir.name)
        if not source_dir.is_dir():
            strays.append(Stray(rel, "file at the landing root; exports go in <source>/<YYYY-MM-DD>/"))
            continue
        if contract is None:
            strays.append(Stray(rel, f"no contract named {source_dir.name!r} (known: {sorted(contracts)})"))
            continue
        for day_dir in sorted(p for p in source_dir.iterdir() if not p.name.startswith(".")):
            day_rel = day_dir.relative_to(root).as_posix()
            try:
                day = date.fromisoformat(day_dir.name)
            except ValueError:
                strays.append(Stray(day_rel, "not a YYYY-MM-DD day folder"))
                continue
            if not day_dir.is_dir():
                strays.append(Stray(day_rel, "a file where a day folder was expected"))
                continue
            matched = sorted(p for p in day_dir.glob(contract.file.glob) if p.is_file())
            for path in matched:
                files.append(LandedFile(contract.name, day, path, path.relative_to(root).as_posix()))
            for other in sorted(set(p for p in day_dir.iterdir() if not p.name.startswith(".")) - set(matched)):
                strays.append(Stray(other.relative_to(root).as_posix(), f"does not match {contract.file.glob!r} of contract {contract.name}"))
    return files, strays
