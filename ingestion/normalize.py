"""Apply a contract to one vendor export: canonical rows out, bad rows to quarantine with reasons.

Accounting holds for every file: rows read = rows loaded + rows quarantined + exact duplicates
dropped. Nothing is turned into a null silently: a value that does not parse, an unknown code,
an empty required value, a missing identity or a future timestamp quarantines its row, and the
reason names the vendor column and the offending value.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from ingestion import identity, parsing, schema, validation, wide
from ingestion.contracts import Contract, per_contract
from ingestion.parsing import KEY
from ingestion.readers import FILE, LINE, ROW, RawFile, UnreadableFile, parse_export
from ingestion.validation import REASON


MISSING_COLUMNS = "file lacks column(s)"  # starts the reason of every row of a file without a mapped column


@dataclass
class FileResult:
    source_system: str
    source_file: str
    rows: pl.DataFrame  # in the target table's schema
    quarantine: pl.DataFrame  # in the quarantine schema
    links: pl.DataFrame  # identity links (ingestion/identity.py), in the identity_links schema
    rows_read: int
    duplicates_dropped: int
    file_sha256: str = ""  # of the bytes read; empty when the file could not be read at all

    @property
    def rows_loaded(self) -> int:
        return self.rows.height

    @property
    def rows_quarantined(self) -> int:
        return int((self.quarantine["source_row"] > 0).sum())

    def stats(self) -> dict:
        return {
            "source_system": self.source_system,
            "source_file": self.source_file,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "duplicates_dropped": self.duplicates_dropped,
            "file_rejected": bool((self.quarantine["source_row"] == 0).any()),
            "file_sha256": self.file_sha256,
        }


@dataclass(frozen=True)
class Lineage:
    source_file: str  # relative to the landing root
    batch_id: str
    ingested_at: datetime  # UTC, tz-aware
    salt: str


def normalize_file(contract: Contract, path: Path, lineage: Lineage) -> FileResult:
    return normalize_source(contract, path.read_bytes, lineage)


def normalize_source(contract: Contract, read: Callable[[], bytes], lineage: Lineage) -> FileResult:
    """Read the file once: its checksum and its records come from the same bytes. An OSError from
    `read` rejects the file (one quarantine entry); anything else, such as a landing zone that
    cannot be reached (LandingZoneError), is not this file's fault and propagates."""
    return normalize_sources(contract, [(read, lineage)])[0]


def normalize_sources(contract: Contract, sources: list[tuple[Callable[[], bytes], Lineage]]) -> list[FileResult]:
    """normalize_source of each of these files of one contract, in their order, with the result each
    has alone. The files are parsed one by one; those with the same columns (and run lineage) are
    then typed, validated and turned into rows as one frame, FILE telling their rows apart, so a
    file pays Polars' fixed cost per step once per batch instead of once per file. Their source
    files must differ."""
    if len({lineage.source_file for _, lineage in sources}) != len(sources):
        raise ValueError("normalize_sources: a source file appears twice")
    results: list[FileResult | None] = []
    groups: dict[tuple, list[tuple[int, RawFile, Lineage, str]]] = {}
    for index, (read, lineage) in enumerate(sources):
        try:
            data = read()
        except OSError as exc:
            results.append(_rejected_file(contract, lineage, f"file unreadable: {exc}"))
            continue
        sha = hashlib.sha256(data).hexdigest()
        raw = _records(contract, data, lineage)
        if isinstance(raw, FileResult):  # rejected or quarantined whole
            raw.file_sha256 = sha
            results.append(raw)
            continue
        results.append(None)
        key = (tuple(raw.columns), lineage.batch_id, lineage.ingested_at, lineage.salt)
        groups.setdefault(key, []).append((index, raw, lineage, sha))
    for group in groups.values():
        for (index, _, _, sha), result in zip(group, _normalize_records(contract, [(raw, lin) for _, raw, lin, _ in group]), strict=True):
            result.file_sha256 = sha
            results[index] = result
    return results


def _records(contract: Contract, data: bytes, lineage: Lineage) -> RawFile | FileResult:
    """The file's records (one row per answer for a wide export), or the result of a file that
    cannot be read or lacks a mapped column."""
    try:
        raw = parse_export(data, contract.file)
    except UnreadableFile as exc:
        return _rejected_file(contract, lineage, f"file unreadable: {exc}")

    missing = [c for c in contract.required_vendor_columns() if c not in raw.columns]
    if missing:
        reason = f"{MISSING_COLUMNS} {missing} that contract {contract.name} maps; found {raw.columns}{_header_hint(contract, raw, missing)}"
        return _all_quarantined(contract, raw, lineage, reason)

    if contract.unpivot is not None:
        raw = wide.one_row_per_answer(raw, contract)
    return raw


def _normalize_records(contract: Contract, files: list[tuple[RawFile, Lineage]]) -> list[FileResult]:
    """The results of files of one contract with the same columns and run lineage, from one frame
    of all their records (FILE: the file's index in `files`). Every step is row by row or per
    file (duplicates, record keys, identity links), so each file gets what it gets alone."""
    raws = [raw for raw, _ in files]
    vendor_cols = raws[0].columns
    rows_contract = _long_form(contract) if contract.unpivot is not None else contract
    heights = [raw.frame.height for raw in raws]
    frame = pl.concat([raw.frame for raw in raws]).with_columns(
        pl.Series(FILE, np.repeat(np.arange(len(raws), dtype=np.int32), heights)))
    absent = [c for c in dict.fromkeys(rows_contract.vendor_columns()) if c not in frame.columns]  # optional columns these exports lack
    if absent:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in absent)

    first = frame.select(pl.struct([FILE, *vendor_cols]).is_first_distinct()).to_series() if frame.height else pl.Series([], dtype=pl.Boolean)
    duplicates = np.bincount(frame[FILE].filter(~first).to_numpy(), minlength=len(raws))
    frame = frame.filter(first)

    parsed = frame.with_columns(parsing.key_expr(rows_contract).alias(KEY), *parsing.field_exprs(rows_contract))
    parsed = parsing.derive(rows_contract, parsed)
    good, bad = validation.split(rows_contract, parsed, files[0][1].ingested_at)
    names = [lineage.source_file for _, lineage in files]
    bad_rows = _by_file(_quarantine_rows(rows_contract, bad, vendor_cols, files[0][1], names), len(raws))
    rows, links = (_by_file(f, len(raws)) for f in _target_rows(rows_contract, good, files[0][1], names))

    results = []
    for i, (raw, lineage) in enumerate(files):
        parts = [q for q in (bad_rows[i], _reject_rows(contract, raw, lineage)) if q.height]
        quarantine = pl.concat(parts) if parts else schema.empty_frame("quarantine")
        result = FileResult(contract.name, lineage.source_file, rows[i], quarantine, links[i], raw.rows_read, int(duplicates[i]))
        accounted = result.rows_loaded + result.rows_quarantined + result.duplicates_dropped
        if accounted != result.rows_read:  # a bug in this module, never a data problem
            raise AssertionError(f"{lineage.source_file}: read {result.rows_read} rows but accounted for {accounted}")
        results.append(result)
    return results


def _by_file(frame: pl.DataFrame, n_files: int) -> list[pl.DataFrame]:
    """A batch's output frame (with FILE) as one frame per file, in the rows' order, without FILE."""
    parts = frame.partition_by(FILE, as_dict=True, maintain_order=True, include_key=False)
    empty = frame.drop(FILE).clear()
    return [parts.get((i,), empty) for i in range(n_files)]


_long_form = per_contract(Contract.for_answers)  # built once per wide contract, not per file


def _header_hint(contract: Contract, raw: RawFile, missing: list[str]) -> str:
    """What probably happened: another delimiter, or columns the vendor renamed."""
    if len(raw.columns) == 1:
        for sep in (";", "\t", "|", ","):
            if sep != contract.file.delimiter and sep in raw.columns[0]:
                return f" (the header contains {sep!r}: is the delimiter {sep!r}? the contract says {contract.file.delimiter!r})"
    renames = []
    for col in missing:
        close = difflib.get_close_matches(col, raw.columns, n=1, cutoff=0.6)
        if close:
            renames.append(f"{col!r} -> {close[0]!r}?")
        else:
            case = [c for c in raw.columns if c.lower() == col.lower()]
            renames += [f"{col!r} -> {case[0]!r}?"] if case else []
    return f" (renamed by the vendor? {', '.join(renames)})" if renames else ""


# --- outputs -------------------------------------------------------------------------------


def _source_file(names: list[str]) -> pl.Expr:
    """Each row's source file, from its FILE index into `names`."""
    if len(names) == 1:
        return pl.lit(names[0]).alias("source_file")
    return pl.col(FILE).replace_strict(list(range(len(names))), names, return_dtype=pl.String).alias("source_file")


@functools.lru_cache(maxsize=8)
def _run_exprs(ingested_at: datetime, batch_id: str) -> tuple[pl.Expr, ...]:
    """The lineage columns every file of a run shares (a time zone-aware literal costs a Series)."""
    return (
        pl.col(ROW).alias("source_row"),
        pl.lit(ingested_at, dtype=schema.UTC_DATETIME).alias("ingested_at"),
        pl.lit(batch_id).alias("batch_id"),
    )


def _target_rows(contract: Contract, frame: pl.DataFrame, lineage: Lineage, names: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows in the target schema, and the identity links they carry (touchpoints only), each with FILE."""
    hashed, derived, target, link_schema = _target_exprs(contract, lineage.salt)
    if contract.target == "ad_spend" and "campaign_name" not in frame.columns:
        derived = [*derived, pl.lit(None, dtype=pl.String).alias("campaign_name")]
    out = frame.with_columns(hashed).with_columns(*derived, _source_file(names), *_run_exprs(lineage.ingested_at, lineage.batch_id))
    if contract.target == "ad_spend":
        return out.select(*target, FILE), schema.empty_frame("identity_links").with_columns(pl.lit(None, dtype=pl.Int32).alias(FILE))
    keys = {kind: pl.col(identity.key_column(kind)) for kind in identity.ALL_KINDS}
    links = identity.links(out, keys, per=FILE).with_columns(pl.lit(contract.name).alias("source_system"))
    return out.select(*target, FILE), links.select(*link_schema.names(), FILE).cast(link_schema)


@per_contract
def _target_exprs(contract: Contract, salt: str) -> tuple[list[pl.Expr], list[pl.Expr], list[pl.Expr], pl.Schema]:
    """(hashed columns, columns derived from them, the target table's columns as typed, the
    identity_links schema): each identifier is hashed once, as a column, for the rows and the links."""
    record_id = identity.sha(pl.concat_str([pl.lit(f"{salt}|{contract.name}|"), pl.col(KEY)]))
    target = [pl.col(n).cast(t) for n, t in schema.polars_schema(contract.target).items()]
    if contract.target == "ad_spend":
        derived = [pl.col(KEY).alias("source_record_key"), pl.lit(contract.name).alias("source_system")]
        return [record_id.alias("spend_id")], derived, target, schema.polars_schema("identity_links")
    hashed = [record_id.alias("touchpoint_id"),
              *(expr.alias(identity.key_column(kind)) for kind, expr in identity.key_exprs(salt, contract.contact_system).items())]
    keys = {kind: pl.col(identity.key_column(kind)) for kind in identity.ALL_KINDS}
    derived = [
        identity.person_key(keys).alias("person_key"),
        pl.coalesce([pl.when(keys[k].is_not_null()).then(pl.lit(k)) for k in ("email", "anon", "contact")]).alias("person_key_kind"),
        identity.key("email", pl.col("referrer_email"), salt).alias("referrer_person_key"),
        pl.lit(contract.family).alias("source_family"),
        pl.lit(contract.name).alias("source_system"),
    ]
    return hashed, derived, target, schema.polars_schema("identity_links")


def _quarantine_rows(contract: Contract, bad: pl.DataFrame, vendor_cols: list[str], lineage: Lineage, names: list[str]) -> pl.DataFrame:
    """The bad rows in the quarantine schema, with FILE."""
    return bad.select(
        pl.lit(contract.name).alias("source_system"),
        _source_file(names),
        pl.col(ROW).alias("source_row"),
        pl.col(LINE).alias("source_line"),
        pl.col(REASON).alias("reason"),
        pl.struct(vendor_cols).struct.json_encode().alias("raw_record"),
        *_run_exprs(lineage.ingested_at, lineage.batch_id)[1:],
        FILE,
    ).cast(schema.polars_schema("quarantine"))


def _quarantine_frame(contract: Contract, lineage: Lineage, rows: list[tuple[int, int, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source_system": [contract.name] * len(rows),
            "source_file": [lineage.source_file] * len(rows),
            "source_row": [r[0] for r in rows],
            "source_line": [r[1] for r in rows],
            "reason": [r[2] for r in rows],
            "raw_record": [r[3] for r in rows],
            "ingested_at": [lineage.ingested_at] * len(rows),
            "batch_id": [lineage.batch_id] * len(rows),
        },
        schema=schema.polars_schema("quarantine"),
    )


def _reject_rows(contract: Contract, raw: RawFile, lineage: Lineage) -> pl.DataFrame:
    if not raw.rejects:
        return schema.empty_frame("quarantine")
    return _quarantine_frame(contract, lineage, [(r.row, r.line, r.reason, r.raw) for r in raw.rejects])


def _all_quarantined(contract: Contract, raw: RawFile, lineage: Lineage, reason: str) -> FileResult:
    records = raw.frame.select(pl.struct(raw.columns).struct.json_encode()).to_series().to_list() if raw.columns else []
    rows = [(row, line, reason, rec) for row, line, rec in zip(raw.frame[ROW], raw.frame[LINE], records, strict=True)]
    rows += [(r.row, r.line, r.reason, r.raw) for r in raw.rejects]
    return FileResult(contract.name, lineage.source_file, schema.empty_frame(contract.target),
                      _quarantine_frame(contract, lineage, rows), schema.empty_frame("identity_links"), raw.rows_read, 0)


def _rejected_file(contract: Contract, lineage: Lineage, reason: str) -> FileResult:
    """The file could not be read at all: one quarantine entry with row 0 stands for it."""
    entry = (0, 0, reason, json.dumps({"__file": lineage.source_file}))
    return FileResult(contract.name, lineage.source_file, schema.empty_frame(contract.target),
                      _quarantine_frame(contract, lineage, [entry]), schema.empty_frame("identity_links"), 0, 0)
