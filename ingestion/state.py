"""What the lake holds per landed file, so that a night ingests only what changed.

`lake/_state/ingested.parquet` has one row per landed file whose outputs are in the lake: the
checksum of the bytes that were normalized, fingerprints of what shaped the outputs (the file's
contract, the normalizer code and mappings, the salt) and that run's counts. ingestion/run.py
skips a file whose checksum and fingerprints are unchanged and whose outputs are still on disk,
and rewrites this file (atomically) only after the run's outputs and load_log are written: a run
that dies half-way leaves the previous state, so the next run re-reads what it may have touched.

The state is derived data: deleting the folder (or TOUCHLINE_FULL_REFRESH=1) makes the next run
read every landed file again. Its folder starts with `_`, so no table glob of the lake reads it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl

from ingestion import storage
from ingestion.contracts import Contract

STATE_FILE = Path("_state") / "ingested.parquet"

SCHEMA = pl.Schema({
    "source_system": pl.String(),
    "target": pl.String(),  # touchpoints or ad_spend: where its rows are, even once its contract is gone
    "source_file": pl.String(),  # relative to the landing root, as in lineage
    "landed_day": pl.Date(),
    "file_sha256": pl.String(),
    "size": pl.Int64(),  # of the file when it was last seen by ingestion (the sensor's hint, not a reason to re-read)
    "mtime_ns": pl.Int64(),
    "contract_sha256": pl.String(),
    "normalizer_sha256": pl.String(),
    "salt_fingerprint": pl.String(),
    "batch_id": pl.String(),  # the run that read it
    "ingested_at": pl.Datetime("us", "UTC"),
    "rows_read": pl.Int64(),
    "rows_loaded": pl.Int64(),
    "rows_quarantined": pl.Int64(),
    "duplicates_dropped": pl.Int64(),
    "file_rejected": pl.Boolean(),
})

# Lake tables written per landed file (ingestion/run.py:_write), `<table>/<relative>.parquet`.
PER_FILE_TABLES = ("touchpoints", "ad_spend", "identity_links", "quarantine")


def state_path(lake: Path) -> Path:
    return lake / STATE_FILE


def load(lake: Path) -> dict[str, dict]:
    """The state by landing-relative path; empty when nothing was ingested yet (or it was deleted)."""
    path = state_path(lake)
    if not path.exists():
        return {}
    return {row["source_file"]: row for row in pl.read_parquet(path).to_dicts()}


def save(lake: Path, rows: list[dict]) -> Path:
    path = state_path(lake)
    frame = pl.DataFrame([{k: r[k] for k in SCHEMA} for r in sorted(rows, key=lambda r: r["source_file"])], schema=SCHEMA)
    storage.write_parquet_atomic(frame, path)
    return path


def stale_days(lake: Path, contracts: dict[str, Contract], salt: str) -> set[date]:
    """Landing days with files the lake holds as read with another contract, normalizer or salt than
    the current ones: ingestion re-reads those files, but only in a run that covers their days (the
    nightly schedule adds these days; orchestration/jobs.py). From the state alone: no file is read."""
    contract_fps = {name: contract_fingerprint(c) for name, c in contracts.items()}
    normalizer_fp, salt_fp = normalizer_fingerprint(), salt_fingerprint(salt)
    return {row["landed_day"] for row in load(lake).values()
            if row["source_system"] in contract_fps
            and (row["contract_sha256"] != contract_fps[row["source_system"]] or row["normalizer_sha256"] != normalizer_fp
                 or row["salt_fingerprint"] != salt_fp)}


def contract_fingerprint(contract: Contract) -> str:
    """Of the contract's parsed definition: a comment or key order in its YAML changes nothing."""
    return hashlib.sha256(json.dumps(contract.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


@cache
def normalizer_fingerprint() -> str:
    """Of the code and mappings that turn a file into rows: the ingestion package's Python modules,
    ingestion/mappings/*.yaml and the Polars version. An upgrade that changes any of them re-reads
    every file (what changed cannot be known to leave the outputs as they were)."""
    import polars

    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"polars {polars.__version__}\n".encode())
    for path in sorted([*root.glob("*.py"), *(root / "mappings").glob("*.yaml")]):
        digest.update(f"{path.relative_to(root).as_posix()}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def salt_fingerprint(salt: str) -> str:
    """Tells a changed TOUCHLINE_SALT (every person key changes) without storing the salt. It reveals
    no more than the person keys in the lake already do (they are hashes of the salt and an email)."""
    return hashlib.sha256(f"touchline-salt-fingerprint|{salt}".encode()).hexdigest()[:16]


def outputs(lake: Path, relative: str) -> list[Path]:
    """Every per-file output a landed file may have in the lake (existing or not)."""
    return [storage.output_path(lake, table, relative) for table in PER_FILE_TABLES]


def landed_day(relative: str) -> date | None:
    """The landing day of a landing-relative path `<source>/<YYYY-MM-DD>/<file>` (None if it has none)."""
    parts = relative.split("/")
    try:
        return date.fromisoformat(parts[1]) if len(parts) >= 3 else None
    except ValueError:
        return None


def files_in_lake(lake: Path) -> set[str]:
    """Landing-relative paths of every file with an output in the lake (the typed `_empty.parquet`
    of each table and temporary files excluded)."""
    found: set[str] = set()
    for table in PER_FILE_TABLES:
        folder = lake / table
        if not folder.is_dir():
            continue
        for path in folder.rglob("*.parquet"):
            if path.name.startswith(".") or path.parent == folder:
                continue  # temporary files; `_empty.parquet` (landed files are always <source>/<day>/<file>)
            found.add(path.relative_to(folder).as_posix().removesuffix(".parquet"))
    return found
