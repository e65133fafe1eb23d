"""Normalize a landing zone into the lake: touchpoints, ad spend and quarantine parquet."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from ingestion import identity, schema, state, storage
from ingestion.contracts import Contract
from ingestion.landing import DayBounds, LandedFile, discover, in_bounds
from ingestion.landing_zone import LandingZone, open_zone
from ingestion.normalize import FileResult, Lineage, normalize_sources
from touchline.ordered import in_order
from touchline.settings import ObjectStore


@dataclass
class IngestReport:
    """One ingestion run. `files` are the files this run read (and the load_log rows it writes);
    `skipped` the landed files whose outputs from an earlier run are still current (same bytes,
    contract, normalizer and salt: ingestion/state.py); `missing` files whose rows are in the lake
    but which are no longer in the landing zone (kept, reported); `removed` such files whose rows a
    full refresh deleted."""

    batch_id: str
    started_at: str
    files: list[dict] = field(default_factory=list)
    strays: list[dict] = field(default_factory=list)
    quarantine_examples: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    full_refresh: bool = False
    state: list[dict] = field(default_factory=list, repr=False)  # the lake's per-file state after this run

    def totals(self) -> dict[str, int]:
        keys = ("rows_read", "rows_loaded", "rows_quarantined", "duplicates_dropped")
        return {k: sum(f[k] for f in self.files) for k in keys} | {
            "files": len(self.files),
            "files_rejected": sum(f["file_rejected"] for f in self.files),
            "files_skipped": len(self.skipped),
            "files_missing": len(self.missing),
            "files_removed": len(self.removed),
            "strays": len(self.strays),
        }

    def by_source(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}

        def agg(source: str) -> dict[str, int]:
            return out.setdefault(source, {"files": 0, "files_skipped": 0, "rows_read": 0, "rows_loaded": 0,
                                           "rows_quarantined": 0, "duplicates_dropped": 0})

        for f in self.files:
            a = agg(f["source_system"])
            a["files"] += 1
            for k in ("rows_read", "rows_loaded", "rows_quarantined", "duplicates_dropped"):
                a[k] += f[k]
        for f in self.skipped:
            agg(f["source_system"])["files_skipped"] += 1
        return dict(sorted(out.items()))

    def load_log(self) -> pl.DataFrame:
        """The reconciliation per file read by this run, as the load_log table (ingestion/schema.py).
        Skipped files have no row here: their latest row is the one of the run that read them."""
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
        """The run's load_log parquet (kept per run), then the lake's ingest state, then a JSON report
        of the latest run. The state comes after the outputs and the load_log: a run that dies before
        it leaves the previous state, and the next run re-reads whatever this one touched."""
        storage.write_parquet_atomic(self.load_log(), lake / "load_log" / f"{self.batch_id}.parquet")
        state.save(lake, self.state)
        path = lake / "_reports" / "ingest_latest.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        report = {k: v for k, v in asdict(self).items() if k != "state"}
        tmp.write_text(json.dumps(report | {"totals": self.totals()}, indent=2, default=str))
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
    full_refresh: bool = False,
    days: DayBounds | None = None,
    bounds: DayBounds | None = None,
) -> IngestReport:
    """Normalize the landed files (every one, or the given ones) that the lake does not hold yet as
    they are now, and write their per-file outputs; `report.write(lake)` then records the run.

    `landing` is a folder or an object-store prefix; files are read one at a time, in order, and
    normalized in batches of consecutive files of one source, INGEST_THREADS batches at a time
    (_in_order). LandingZoneError (the zone cannot be listed or read) stops the ingestion: see
    ingestion/landing_zone.py.

    A file is read when it is new, its bytes changed (a re-delivery: its outputs are replaced), its
    contract, the normalizer (code, mappings) or the salt changed since it was read, or one of its
    outputs is gone; otherwise it is skipped and reported as such. With `full_refresh` every file
    is read, and the outputs of files no longer in the landing zone are deleted (reported); without
    it they are kept and reported as missing (only when the whole landing zone is ingested).

    `days` (first, last landing day, inclusive: a run's daily partitions) limits all of this to the
    files of those days: files of other days are neither read, skipped, reported missing nor removed.
    `bounds` are the days any partition can hold: day folders outside them are strays (ingestion/landing.py)."""
    now = datetime.now(UTC)
    batch_id = batch_id or now.strftime("%Y%m%dT%H%M%S%fZ")
    zone = open_zone(landing)
    found, strays = discover(zone, contracts, bounds)
    found = [f for f in found if in_bounds(f.day, days)]
    todo_files = list(files) if files is not None else found
    report = IngestReport(batch_id, now.isoformat(), strays=[asdict(s) for s in strays], full_refresh=full_refresh)
    storage.ensure_schema_files(lake)
    previous = state.load(lake)
    current = dict(previous)  # becomes the state after this run
    salt_fp, normalizer_fp = state.salt_fingerprint(salt), state.normalizer_fingerprint()
    contract_fps = {name: state.contract_fingerprint(c) for name, c in contracts.items()}

    todo: list[tuple[LandedFile, str]] = []
    for landed in todo_files:
        prev = previous.get(landed.relative)
        reason = _why_read(lake, zone, landed, prev, contract_fps[landed.source], normalizer_fp, salt_fp, full_refresh)
        if reason is None:
            current[landed.relative] = prev | {"size": landed.size, "mtime_ns": landed.mtime_ns}
            report.skipped.append({"source_system": landed.source, "source_file": landed.relative,
                                   "day": landed.day.isoformat(), "batch_id": prev["batch_id"]})
        else:
            todo.append((landed, reason))

    def fetch(landed: LandedFile) -> Callable[[], bytes]:
        """The file's bytes, read here, in the files' order: a landing zone that fails stops the run
        at that file, before any later one is requested."""
        try:
            data = zone.read_bytes(landed.relative)
        except OSError as exc:  # this file's fault: normalize_source rejects it with the reason
            error = exc

            def fail() -> bytes:
                raise error
            return fail
        return lambda: data

    def normalize_and_write(batch: list[tuple[LandedFile, Callable[[], bytes]]]) -> list[tuple[dict, list[dict]]]:
        contract = contracts[batch[0][0].source]
        results = normalize_sources(contract, [(read, Lineage(landed.relative, batch_id, now, salt)) for landed, read in batch])
        done = []
        for (landed, _), result in zip(batch, results, strict=True):
            _write(lake, contract, landed, result)
            done.append((result.stats(), result.quarantine.head(3).select("source_file", "source_line", "reason").to_dicts()))
        return done

    files_todo = [f for f, _ in todo]
    for done, ((landed, reason), (stats, examples)) in enumerate(zip(todo, _in_order(files_todo, fetch, normalize_and_write)), start=1):
        contract = contracts[landed.source]
        stats = stats | {"day": landed.day.isoformat()}
        report.files.append(stats | {"reason": reason})
        report.quarantine_examples.extend(examples)
        current[landed.relative] = {
            **{k: stats[k] for k in ("source_system", "source_file", "file_sha256", "rows_read", "rows_loaded",
                                     "rows_quarantined", "duplicates_dropped", "file_rejected")},
            "target": contract.target, "landed_day": landed.day,
            "size": landed.size, "mtime_ns": landed.mtime_ns,
            "contract_sha256": contract_fps[landed.source], "normalizer_sha256": normalizer_fp, "salt_fingerprint": salt_fp,
            "batch_id": batch_id, "ingested_at": now,
        }
        if progress:
            progress(landed, done, len(todo))

    if files is None:  # the whole landing zone: what is in the lake but no longer landed?
        landed_now = {f.relative for f in found}
        in_lake = {r for r in set(current) | state.files_in_lake(lake) if in_bounds(state.landed_day(r), days)}
        for relative in sorted(in_lake - landed_now):
            prev = current.pop(relative, None)
            present = [p for p in state.outputs(lake, relative) if p.exists()]
            if not present:
                continue  # neither landed nor in the lake: nothing left to account for
            entry = {"source_file": relative,
                     "batch_id": prev["batch_id"] if prev else None,
                     "rows_loaded": prev["rows_loaded"] if prev else None}
            if full_refresh:
                for path in present:
                    path.unlink()
                report.removed.append(entry)
            else:
                if prev:
                    current[relative] = prev  # its rows stay in the lake, so they stay in the state
                report.missing.append(entry)
    report.state = [row for row in current.values() if row.get("file_sha256")]  # an unreadable file is retried
    return report


INGEST_THREADS = 2  # batches normalized at once: Polars releases the GIL, so the two cores overlap
BATCH_FILES = 64  # at most this many files in a batch
BATCH_BYTES = 8 * 2**20  # and, but for a larger single file, at most this many landed bytes


def batches(files: list[LandedFile]) -> Iterator[list[LandedFile]]:
    """Consecutive files of one source, BATCH_FILES and BATCH_BYTES at most: normalized together
    (normalize_sources), a small file costs a fraction of Polars' fixed cost per step."""
    batch: list[LandedFile] = []
    size = 0
    for landed in files:
        if batch and (landed.source != batch[0].source or len(batch) == BATCH_FILES or size + landed.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(landed)
        size += landed.size
    if batch:
        yield batch


def _in_order(files: list[LandedFile], fetch: Callable[[LandedFile], Callable[[], bytes]],
              work: Callable[[list[tuple[LandedFile, Callable[[], bytes]]]], list[tuple[dict, list[dict]]]]) -> Iterator[tuple[dict, list[dict]]]:
    """work([(file, fetch(file)) for file in batch]) for each of the files' batches, INGEST_THREADS
    batches at a time, the results file by file in the files' order (touchline/ordered.py). `fetch`
    runs here, one file after the other, so an error reading the landing zone stops the run at its
    file (batches being normalized finish, those not started are cancelled); at most twice as many
    batches as threads are in flight, so memory follows the batches' size, not the files' number."""
    def prepare(batch: list[LandedFile]) -> tuple[list[tuple[LandedFile, Callable[[], bytes]]]]:
        return ([(landed, fetch(landed)) for landed in batch],)

    if INGEST_THREADS <= 1 or len(files) <= 1:
        for batch in batches(files):
            yield from work(*prepare(batch))
        return
    with ThreadPoolExecutor(INGEST_THREADS, thread_name_prefix="ingest") as pool:
        for done in in_order(pool, work, batches(files), ahead=2 * INGEST_THREADS, prepare=prepare):
            yield from done


def _why_read(lake: Path, zone: LandingZone, landed: LandedFile, prev: dict | None, contract_fp: str, normalizer_fp: str, salt_fp: str,
              full_refresh: bool) -> str | None:
    """Why this file must be read, or None when the lake already holds its current outputs."""
    if full_refresh:
        return "full refresh"
    if prev is None:
        return "new"
    try:
        sha = hashlib.sha256(zone.read_bytes(landed.relative)).hexdigest()
    except OSError:
        return "unreadable"  # normalize_file turns it into a rejected file with the reason
    if sha != prev["file_sha256"]:
        return "changed"
    if contract_fp != prev["contract_sha256"]:
        return "contract changed"
    if normalizer_fp != prev["normalizer_sha256"]:
        return "normalizer changed"
    if salt_fp != prev["salt_fingerprint"]:
        return "salt changed"
    needed = [storage.output_path(lake, prev["target"], landed.relative)]
    if prev["target"] == "touchpoints":
        needed.append(storage.output_path(lake, "identity_links", landed.relative))
    if prev["rows_quarantined"] or prev["file_rejected"]:
        needed.append(storage.output_path(lake, "quarantine", landed.relative))
    if not all(p.exists() for p in needed):
        return "outputs missing"
    return None


def _write(lake: Path, contract: Contract, landed: LandedFile, result: FileResult) -> None:
    storage.write_parquet_atomic(result.rows, storage.output_path(lake, contract.target, landed.relative))
    if contract.target == "touchpoints":
        storage.write_parquet_atomic(result.links, storage.output_path(lake, "identity_links", landed.relative))
    written = {contract.target, "identity_links"} if contract.target == "touchpoints" else {contract.target}
    for table in {"touchpoints", "ad_spend", "identity_links"} - written:  # left by a contract whose target changed
        storage.output_path(lake, table, landed.relative).unlink(missing_ok=True)
    qpath = storage.output_path(lake, "quarantine", landed.relative)
    if result.quarantine.height:
        storage.write_parquet_atomic(result.quarantine, qpath)
    else:
        qpath.unlink(missing_ok=True)  # a fixed re-delivery clears the file's old quarantine



def resolve_identities(lake: Path) -> pl.DataFrame:
    """Union every identity link in the lake and write identity_map (alias key -> person key)."""
    mapping = identity.resolve(pl.scan_parquet(storage.table_glob(lake, "identity_links")))
    storage.write_parquet_atomic(mapping, lake / "identity_map" / "identity_map.parquet")
    return mapping
