"""Normalize a landing zone into the lake: touchpoints, ad spend and quarantine parquet."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from ingestion import identity, schema, storage
from ingestion.contracts import Contract
from ingestion.landing import LandedFile, discover
from ingestion.landing_zone import LandingZone, open_zone
from ingestion.normalize import FileResult, Lineage, normalize_source
from touchline.settings import ObjectStore


@dataclass
class IngestReport:
    batch_id: str
    started_at: str
    files: list[dict] = field(default_factory=list)
    strays: list[dict] = field(default_factory=list)
    quarantine_examples: list[dict] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = ("rows_read", "rows_loaded", "rows_quarantined", "duplicates_dropped")
        return {k: sum(f[k] for f in self.files) for k in keys} | {
            "files": len(self.files),
            "files_rejected": sum(f["file_rejected"] for f in self.files),
            "strays": len(self.strays),
        }

    def by_source(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            agg = out.setdefault(f["source_system"], {"files": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "duplicates_dropped": 0})
            agg["files"] += 1
            for k in ("rows_read", "rows_loaded", "rows_quarantined", "duplicates_dropped"):
                agg[k] += f[k]
        return out

    def load_log(self) -> pl.DataFrame:
        """The reconciliation per file, as the load_log table (ingestion/schema.py)."""
        rows = [
            {"batch_id": self.batch_id, "source_system": f["source_system"], "source_file": f["source_file"],
             "landed_day": date.fromisoformat(f["day"]), "file_sha256": f["file_sha256"],
             "rows_read": f["rows_read"], "rows_loaded": f["rows_loaded"], "rows_quarantined": f["rows_quarantined"],
             "duplicates_dropped": f["duplicates_dropped"], "file_rejected": f["file_rejected"],
             "ingested_at": datetime.fromisoformat(self.started_at)}
            for f in self.files
        ]
        return pl.DataFrame(rows, schema=schema.polars_schema("load_log"))

    def write(self, lake: Path) -> Path:
        """The run's load_log parquet (kept per run) and a JSON report of the latest run."""
        storage.write_parquet_atomic(self.load_log(), lake / "load_log" / f"{self.batch_id}.parquet")
        path = lake / "_reports" / "ingest_latest.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self) | {"totals": self.totals()}, indent=2, default=str))
        tmp.replace(path)
        return path


def ingest(
    landing: Path | ObjectStore | LandingZone,
    lake: Path,
    contracts: dict[str, Contract],
    *,
    salt: str,
    batch_id: str | None = None,
    files: Iterable[LandedFile] | None = None,
    progress: Callable[[LandedFile, int, int], None] | None = None,
) -> IngestReport:
    """Normalize every landed file (or the given ones) and write the per-file outputs.

    `landing` is a folder or an object-store prefix; files are read one at a time. LandingZoneError
    (the zone cannot be listed or read) stops the ingestion: see ingestion/landing_zone.py."""
    now = datetime.now(UTC)
    batch_id = batch_id or now.strftime("%Y%m%dT%H%M%S%fZ")
    zone = open_zone(landing)
    found, strays = discover(zone, contracts)
    todo = list(files) if files is not None else found
    report = IngestReport(batch_id, now.isoformat(), strays=[asdict(s) for s in strays])
    storage.ensure_schema_files(lake)
    for done, landed in enumerate(todo, start=1):
        contract = contracts[landed.source]
        read = functools.partial(zone.read_bytes, landed.relative)
        result = normalize_source(contract, read, Lineage(landed.relative, batch_id, now, salt))
        _write(lake, contract, landed, result)
        report.files.append(result.stats() | {"day": landed.day.isoformat()})
        report.quarantine_examples.extend(result.quarantine.head(3).select("source_file", "source_line", "reason").to_dicts())
        if progress:
            progress(landed, done, len(todo))
    return report


def _write(lake: Path, contract: Contract, landed: LandedFile, result: FileResult) -> None:
    storage.write_parquet_atomic(result.rows, storage.output_path(lake, contract.target, landed.relative))
    if contract.target == "touchpoints":
        storage.write_parquet_atomic(result.links, storage.output_path(lake, "identity_links", landed.relative))
    qpath = storage.output_path(lake, "quarantine", landed.relative)
    if result.quarantine.height:
        storage.write_parquet_atomic(result.quarantine, qpath)
    else:
        qpath.unlink(missing_ok=True)  # a fixed re-delivery clears the file's old quarantine



def resolve_identities(lake: Path) -> pl.DataFrame:
    """Union every identity link in the lake and write identity_map (alias key -> person key)."""
    links = pl.scan_parquet(storage.table_glob(lake, "identity_links")).collect()
    mapping = identity.resolve(links)
    storage.write_parquet_atomic(mapping, lake / "identity_map" / "identity_map.parquet")
    return mapping
