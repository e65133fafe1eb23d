"""Apply a contract to one vendor export: canonical rows out, bad rows to quarantine with reasons.

Accounting holds for every file: rows read = rows loaded + rows quarantined + exact duplicates
dropped. Nothing is turned into a null silently: a value that does not parse, an unknown code,
an empty required value, a missing identity or a future timestamp quarantines its row, and the
reason names the vendor column and the offending value.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from ingestion import classification, identity, schema
from ingestion.contracts import ANSWER, ENUM_FIELDS, QUESTION, REQUIRED_FIELDS, TARGET_FIELDS, Contract, FieldSpec
from ingestion.readers import LINE, ROW, RawFile, UnreadableFile, read_export

REASON = "__reason"
KEY = "__key"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
CLICK_ID_PARAMS = ("gclid", "fbclid", "msclkid", "ttclid", "dclid")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
FUTURE_TOLERANCE = timedelta(minutes=10)


@dataclass
class FileResult:
    source_system: str
    source_file: str
    rows: pl.DataFrame  # in the target table's schema
    quarantine: pl.DataFrame  # in the quarantine schema
    links: pl.DataFrame  # identity links (ingestion/identity.py), in the identity_links schema
    rows_read: int
    duplicates_dropped: int

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
        }


@dataclass(frozen=True)
class Lineage:
    source_file: str  # relative to the landing root
    batch_id: str
    ingested_at: datetime  # UTC, tz-aware
    salt: str


def normalize_file(contract: Contract, path: Path, lineage: Lineage) -> FileResult:
    try:
        raw = read_export(path, contract.file)
    except (UnreadableFile, OSError) as exc:
        return _rejected_file(contract, lineage, f"file unreadable: {exc}")

    missing = [c for c in contract.required_vendor_columns() if c not in raw.columns]
    if missing:
        reason = f"file lacks column(s) {missing} that contract {contract.name} maps; found {raw.columns}{_header_hint(contract, raw, missing)}"
        return _all_quarantined(contract, raw, lineage, reason)

    if contract.unpivot is not None:
        raw = _one_row_per_answer(raw, contract)
        contract = contract.for_answers()

    frame = raw.frame
    for column in contract.vendor_columns():
        if column not in frame.columns:  # an optional column this export lacks
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))

    vendor_cols = raw.columns
    first = frame.select(pl.struct(vendor_cols).is_first_distinct()).to_series() if frame.height else pl.Series([], dtype=pl.Boolean)
    duplicates = int((~first).sum())
    frame = frame.filter(first)

    parsed = frame.with_columns(_key_expr(contract).alias(KEY), *_field_exprs(contract))
    parsed = _derive(contract, parsed, lineage)
    parsed = parsed.with_columns(_reason_expr(contract, parsed, lineage))

    bad = parsed.filter(pl.col(REASON).is_not_null())
    good = parsed.filter(pl.col(REASON).is_null())
    quarantine = pl.concat([_quarantine_rows(contract, bad, vendor_cols, lineage), _reject_rows(contract, raw, lineage)])
    rows, links = _target_rows(contract, good, lineage)

    result = FileResult(contract.name, lineage.source_file, rows, quarantine, links, raw.rows_read, duplicates)
    accounted = result.rows_loaded + result.rows_quarantined + result.duplicates_dropped
    if accounted != result.rows_read:  # a bug in this module, never a data problem
        raise AssertionError(f"{lineage.source_file}: read {result.rows_read} rows but accounted for {accounted}")
    return result


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


def _one_row_per_answer(raw: RawFile, contract: Contract) -> RawFile:
    """Wide survey export -> one row per answered question (question and answer as columns).

    A response that answered none of the questions still is one row (a survey touchpoint without
    a score), so no response disappears. Row and line numbers stay those of the response."""
    spec = contract.unpivot
    questions = list(spec.questions)
    keep = [c for c in raw.columns if c not in questions]
    consts = sorted({name for c in spec.questions.values() for name in c})
    parts = [
        raw.frame.select(
            *keep, ROW, LINE, pl.lit(q).alias(QUESTION), pl.col(q).alias(ANSWER),
            *(pl.lit(spec.questions[q].get(name), dtype=pl.String).alias(f"__q_{name}") for name in consts),
        )
        for q in questions
    ]
    answers = pl.concat(parts).filter(pl.col(ANSWER).str.strip_chars() != "")
    unanswered = raw.frame.filter(~pl.col(ROW).is_in(answers[ROW].implode())).select(
        *keep, ROW, LINE, pl.lit(None, dtype=pl.String).alias(QUESTION), pl.lit(None, dtype=pl.String).alias(ANSWER),
        *(pl.lit(None, dtype=pl.String).alias(f"__q_{name}") for name in consts),
    )
    frame = pl.concat([answers, unanswered]).sort([ROW, QUESTION], nulls_last=True)
    return RawFile([*keep, QUESTION, ANSWER, *(f"__q_{n}" for n in consts)], frame, raw.rejects)


# --- parsing -------------------------------------------------------------------------------


def _text(col: str) -> pl.Expr:
    """Vendor text, trimmed, empty as null."""
    stripped = pl.col(col).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def _value_expr(name: str, spec: FieldSpec) -> pl.Expr:
    """The field's value before typing: mapped code values, defaults, constants."""
    if spec.value is not None:
        return pl.lit(spec.value, dtype=pl.String)
    raw = _raw_value(spec)
    value = raw
    if spec.map is not None:
        lowered = {k.strip().lower(): v for k, v in spec.map.items()}
        value = value.str.to_lowercase().replace_strict(lowered, default=None, return_dtype=pl.String)
    if spec.default is not None:
        value = pl.when(raw.is_null()).then(pl.lit(spec.default)).otherwise(value)
    return value


def _raw_value(spec: FieldSpec) -> pl.Expr:
    """The vendor's text for a field: its column, else the first non-empty fallback column."""
    return pl.coalesce([_text(c) for c in (spec.column, *spec.fallback_columns)]) if spec.fallback_columns else _text(spec.column)


def _field_exprs(contract: Contract) -> list[pl.Expr]:
    types = TARGET_FIELDS[contract.target]
    exprs = []
    for name, spec in contract.fields.items():
        value = _value_expr(name, spec)
        ftype = types[name]
        if ftype == "email":
            value = value.str.to_lowercase()
        elif ftype in ("integer", "decimal"):
            if spec.thousands_separator:
                value = value.str.replace_all(spec.thousands_separator, "", literal=True)
            if spec.decimal_separator != ".":
                value = value.str.replace(spec.decimal_separator, ".", literal=True)
            value = value.cast(pl.Int64 if ftype == "integer" else pl.Float64, strict=False)
        elif ftype == "date":
            value = value.str.strptime(pl.Date, spec.format, strict=False) if spec.format else value.cast(pl.Date, strict=False)
        elif ftype == "datetime":
            value = _parse_timestamp(value, spec.format, contract.timezone)
        exprs.append(value.alias(name))
    return exprs


def _parse_timestamp(value: pl.Expr, fmt: str | None, timezone: str) -> pl.Expr:
    if fmt and ("%z" in fmt or "%:z" in fmt or "%#z" in fmt):
        parsed = value.str.strptime(pl.Datetime("us"), fmt, strict=False)
        return parsed.dt.convert_time_zone("UTC")
    parsed = value.str.strptime(pl.Datetime("us"), fmt, strict=False) if fmt else value.cast(pl.Datetime("us"), strict=False)
    # Local times that do not exist (spring-forward gap) become null and are quarantined;
    # ambiguous ones (fall-back hour) take the earlier instant.
    return parsed.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")


def _key_expr(contract: Contract) -> pl.Expr:
    """The vendor record key; email parts normalized so case and spaces do not make new keys."""
    email_cols = {s.column for n, s in contract.fields.items() if TARGET_FIELDS[contract.target][n] == "email"}
    parts = [_text(c).str.to_lowercase() if c in email_cols else _text(c) for c in contract.record_key]
    key = pl.concat_str([p.fill_null("") for p in parts], separator="|")
    return pl.when(pl.all_horizontal([p.is_null() for p in parts])).then(None).otherwise(key)


def _query_param(url: pl.Expr, param: str) -> pl.Expr:
    value = url.str.extract(rf"[?&]{param}=([^&#]*)", 1)
    value = value.str.replace_all("+", " ", literal=True).str.replace_all("%20", " ", literal=True)
    return pl.when(value == "").then(None).otherwise(value)


def _derive(contract: Contract, frame: pl.DataFrame, lineage: Lineage) -> pl.DataFrame:
    """Columns every touchpoint has that the contract does not fill directly."""
    if contract.target != "touchpoints":
        return frame
    fields = set(contract.fields)
    cols: list[pl.Expr] = []
    url = pl.col("landing_url") if "landing_url" in fields else pl.lit(None, dtype=pl.String)
    cols.append(url.str.replace(r"[?#].*$", "").alias("landing_page"))
    for utm in UTM_FIELDS:
        if utm not in fields:
            cols.append(_query_param(url, utm).alias(utm))
    if "click_id" not in fields:
        cols.append(pl.coalesce([_query_param(url, p) for p in CLICK_ID_PARAMS]).alias("click_id"))
    for name in ("email", "anonymous_id", "contact_id", "referrer_email", "referral_code", "referred_by_code",
                 "campaign_id", "campaign_name", "revenue",
                 "currency", "score", "score_scale", "channel", "journey_stage", "need"):
        if name not in fields:
            dtype = pl.Float64 if name in ("revenue", "score") else pl.String
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    frame = frame.with_columns(cols)
    return frame.with_columns(
        pl.coalesce(
            pl.col("channel"),
            classification.channel_from_utm(),
            pl.lit(contract.channel_default or "other"),
        ).alias("channel"),
        pl.coalesce(pl.col("journey_stage"), classification.stage_of_type()).alias("journey_stage"),
        pl.coalesce(
            pl.col("need"),
            classification.need_of(["campaign_name", "utm_campaign", "landing_page"]),
        ).alias("need"),
    )


# --- validation ----------------------------------------------------------------------------


def _reason_expr(contract: Contract, frame: pl.DataFrame, lineage: Lineage) -> pl.Expr:
    """All of a row's problems, '; '-joined, or null for a good row."""
    checks: list[pl.Expr] = []

    def problem(cond: pl.Expr, *parts: pl.Expr | str) -> None:
        msg = pl.concat_str([p if isinstance(p, pl.Expr) else pl.lit(p) for p in parts])
        checks.append(pl.when(cond).then(msg))

    types = TARGET_FIELDS[contract.target]
    for name, spec in contract.fields.items():
        if spec.column is None:
            continue
        raw = _raw_value(spec)
        # a wide export's answer is named by its question column
        label = pl.concat_str([pl.lit("column '"), pl.col(QUESTION), pl.lit("': '")]) if spec.column == ANSWER else f"column '{spec.column}': '"
        ftype = types[name]
        parsed_null = pl.col(name).is_null() & raw.is_not_null()
        if spec.map is not None:
            problem(parsed_null, label, raw, f"' is an unknown code (contract maps {sorted(spec.map)})")
        elif ftype in ("datetime", "date"):
            problem(parsed_null, label, raw, f"' is not a {ftype} in format '{spec.format}' ({contract.timezone})")
        elif ftype in ("integer", "decimal"):
            problem(parsed_null, label, raw, f"' is not {'an integer' if ftype == 'integer' else 'a number'}")
        elif ftype == "email":
            problem(pl.col(name).is_not_null() & ~pl.col(name).str.contains(EMAIL_PATTERN), label, raw, "' is not an email address")
        enum = ENUM_FIELDS.get(name)
        if enum is not None and spec.map is None:
            problem(pl.col(name).is_not_null() & ~pl.col(name).is_in(enum()), label, raw, f"' is not one of {enum()}")

    for name in REQUIRED_FIELDS[contract.target]:
        spec = contract.fields.get(name)
        source = f"column '{spec.column}'" if spec and spec.column else name
        raw_null = _raw_value(spec).is_null() if spec and spec.column else pl.lit(True)
        problem(pl.col(name).is_null() & raw_null, f"{source} is empty ({name} is required)")

    problem(pl.col(KEY).is_null(), f"record key {contract.record_key} is empty")
    keyed = pl.col(KEY).is_not_null()
    first_row = pl.col(ROW).min().over(KEY)
    problem(keyed & (pl.col(ROW) != first_row), "record key '", pl.col(KEY), "' repeats row ", first_row.cast(pl.String), " of this file with different values")

    now = lineage.ingested_at + FUTURE_TOLERANCE
    if contract.target == "touchpoints":
        id_cols = [contract.fields[c].column or c for c in ("email", "anonymous_id", "contact_id") if c in contract.fields]
        problem(pl.col("email").is_null() & pl.col("anonymous_id").is_null() & pl.col("contact_id").is_null(),
                f"no identity: {id_cols} empty")
        problem(pl.col("occurred_at") > pl.lit(now), "occurred_at ", pl.col("occurred_at").cast(pl.String), " is in the future (wrong time zone in the contract?)")
    else:
        problem(pl.col("spend_date") > pl.lit(now.date()), "spend_date ", pl.col("spend_date").cast(pl.String), " is in the future")

    reason = pl.concat_str(checks, separator="; ", ignore_nulls=True)
    return pl.when(reason == "").then(None).otherwise(reason).alias(REASON)


# --- outputs -------------------------------------------------------------------------------


def _lineage_exprs(lineage: Lineage) -> list[pl.Expr]:
    return [
        pl.lit(lineage.source_file).alias("source_file"),
        pl.col(ROW).alias("source_row"),
        pl.lit(lineage.ingested_at, dtype=schema.UTC_DATETIME).alias("ingested_at"),
        pl.lit(lineage.batch_id).alias("batch_id"),
    ]


def _target_rows(contract: Contract, frame: pl.DataFrame, lineage: Lineage) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows in the target schema, and the identity links they carry (touchpoints only)."""
    record_id = identity.sha(pl.concat_str([pl.lit(f"{lineage.salt}|{contract.name}|"), pl.col(KEY)]))
    target = schema.polars_schema(contract.target)
    if contract.target == "ad_spend":
        out = frame.with_columns(
            record_id.alias("spend_id"),
            pl.col(KEY).alias("source_record_key"),
            pl.lit(contract.name).alias("source_system"),
            pl.col("campaign_name") if "campaign_name" in frame.columns else pl.lit(None, dtype=pl.String).alias("campaign_name"),
            *_lineage_exprs(lineage),
        )
        return out.select([pl.col(n).cast(t) for n, t in target.items()]), schema.empty_frame("identity_links")
    keys = identity.key_exprs(lineage.salt, contract.contact_system)
    out = frame.with_columns(
        record_id.alias("touchpoint_id"),
        identity.person_key(keys).alias("person_key"),
        pl.coalesce([pl.when(keys[k].is_not_null()).then(pl.lit(k)) for k in ("email", "anon", "contact")]).alias("person_key_kind"),
        identity.key("email", pl.col("referrer_email"), lineage.salt).alias("referrer_person_key"),
        pl.lit(contract.family).alias("source_family"),
        pl.lit(contract.name).alias("source_system"),
        *_lineage_exprs(lineage),
    )
    links = identity.links(out, keys).with_columns(pl.lit(contract.name).alias("source_system"))
    return (
        out.select([pl.col(n).cast(t) for n, t in target.items()]),
        links.select(schema.polars_schema("identity_links").names()).cast(schema.polars_schema("identity_links")),
    )


def _quarantine_rows(contract: Contract, bad: pl.DataFrame, vendor_cols: list[str], lineage: Lineage) -> pl.DataFrame:
    if bad.height == 0:
        return schema.empty_frame("quarantine")
    return bad.select(
        pl.lit(contract.name).alias("source_system"),
        pl.lit(lineage.source_file).alias("source_file"),
        pl.col(ROW).alias("source_row"),
        pl.col(LINE).alias("source_line"),
        pl.col(REASON).alias("reason"),
        pl.struct(vendor_cols).struct.json_encode().alias("raw_record"),
        pl.lit(lineage.ingested_at, dtype=schema.UTC_DATETIME).alias("ingested_at"),
        pl.lit(lineage.batch_id).alias("batch_id"),
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
