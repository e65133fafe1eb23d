"""Why a row cannot be loaded: every problem of a parsed row, named by vendor column and value."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from ingestion.contracts import ANSWER, ENUM_FIELDS, QUESTION, REQUIRED_FIELDS, TARGET_FIELDS, Contract, per_contract
from ingestion.parsing import KEY, raw_value
from ingestion.readers import FILE, ROW

REASON = "__reason"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
FUTURE_TOLERANCE = timedelta(minutes=10)
FIRST_ROW = "__first_row"  # the first row of the file with the row's record key


def split(contract: Contract, frame: pl.DataFrame, ingested_at: datetime) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(good rows, bad rows with their REASON), each in the frame's order. The frame holds the
    rows of one or more files (FILE tells them apart); a record key repeats within its file.

    The conditions are evaluated for every row; the reasons (text naming column and value) only
    for the rows that meet one, so a clean file costs no string building."""
    checks, suspect_expr = _checks(contract, ingested_at)
    frame = frame.with_columns(pl.col(ROW).min().over(FILE, KEY).alias(FIRST_ROW))
    suspect = frame.select(suspect_expr).to_series()
    if not suspect.any():
        return frame, frame.clear().with_columns(pl.lit(None, dtype=pl.String).alias(REASON))
    rated = frame.filter(suspect).with_columns(_reason(checks))
    bad = rated.filter(pl.col(REASON).is_not_null())
    good = frame.filter(~suspect)
    if bad.height < rated.height:  # a condition met whose message has a null part names no problem: a good row
        indexed = frame.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("__index"))
        cleared = indexed.filter(suspect).with_columns(_reason(checks)).filter(pl.col(REASON).is_null()).drop(REASON)
        good = pl.concat([indexed.filter(~suspect), cleared]).sort("__index").drop("__index")
    return good, bad


def _reason(checks: tuple[tuple[pl.Expr, pl.Expr], ...]) -> pl.Expr:
    """All of a row's problems, '; '-joined, or null for a good row."""
    reason = pl.concat_str([pl.when(cond).then(msg) for cond, msg in checks], separator="; ", ignore_nulls=True)
    return pl.when(reason == "").then(None).otherwise(reason).alias(REASON)


@per_contract
def _checks(contract: Contract, ingested_at: datetime) -> tuple[tuple[tuple[pl.Expr, pl.Expr], ...], pl.Expr]:
    """(condition, message) of every problem a row of this contract can have, and whether any is met."""
    checks: list[tuple[pl.Expr, pl.Expr]] = []

    def problem(cond: pl.Expr, *parts: pl.Expr | str) -> None:
        msg = pl.concat_str([p if isinstance(p, pl.Expr) else pl.lit(p) for p in parts])
        checks.append((cond, msg))

    types = TARGET_FIELDS[contract.target]
    for name, spec in contract.fields.items():
        if spec.column is None:
            continue
        raw = raw_value(spec)
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
        raw_null = raw_value(spec).is_null() if spec and spec.column else pl.lit(True)
        problem(pl.col(name).is_null() & raw_null, f"{source} is empty ({name} is required)")

    problem(pl.col(KEY).is_null(), f"record key {contract.record_key} is empty")
    keyed = pl.col(KEY).is_not_null()
    first_row = pl.col(FIRST_ROW)
    problem(keyed & (pl.col(ROW) != first_row), "record key '", pl.col(KEY), "' repeats row ", first_row.cast(pl.String), " of this file with different values")

    now = ingested_at + FUTURE_TOLERANCE
    if contract.target == "touchpoints":
        id_cols = [contract.fields[c].column or c for c in ("email", "anonymous_id", "contact_id") if c in contract.fields]
        problem(pl.col("email").is_null() & pl.col("anonymous_id").is_null() & pl.col("contact_id").is_null(),
                f"no identity: {id_cols} empty")
        problem(pl.col("occurred_at") > pl.lit(now), "occurred_at ", pl.col("occurred_at").cast(pl.String), " is in the future (wrong time zone in the contract?)")
    else:
        problem(pl.col("spend_date") > pl.lit(now.date()), "spend_date ", pl.col("spend_date").cast(pl.String), " is in the future")

    return tuple(checks), pl.any_horizontal([cond for cond, _ in checks]).fill_null(False)
