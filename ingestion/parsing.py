"""Vendor text -> typed canonical fields, as Polars expressions driven by a contract.

Nothing here decides that a row is bad: a value that does not parse becomes null, and
validation.py compares it with the vendor's text to quarantine the row with a reason.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import polars as pl

from ingestion import classification
from ingestion.contracts import TARGET_FIELDS, Contract, FieldSpec, per_contract

KEY = "__key"
CLICK_ID_PARAMS = ("gclid", "fbclid", "msclkid", "ttclid", "dclid")
# The ad platform's campaign id in a landing URL: GA4's utm_id (filled by the platforms' URL
# templates, e.g. {campaignid} / {{campaign.id}}), then Google Ads auto-tagging's gad_campaignid.
CAMPAIGN_ID_PARAMS = ("utm_id", "gad_campaignid")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")


def text(col: str) -> pl.Expr:
    """Vendor text, trimmed, empty as null."""
    stripped = pl.col(col).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def value_expr(name: str, spec: FieldSpec) -> pl.Expr:
    """The field's value before typing: mapped code values, defaults, constants."""
    if spec.value is not None:
        return pl.lit(spec.value, dtype=pl.String)
    raw = raw_value(spec)
    value = raw
    if spec.map is not None:
        lowered = {k.strip().lower(): v for k, v in spec.map.items()}
        value = value.str.to_lowercase().replace_strict(lowered, default=None, return_dtype=pl.String)
    if spec.default is not None:
        value = pl.when(raw.is_null()).then(pl.lit(spec.default)).otherwise(value)
    return value


def raw_value(spec: FieldSpec) -> pl.Expr:
    """The vendor's text for a field: its column, else the first non-empty fallback column."""
    return pl.coalesce([text(c) for c in (spec.column, *spec.fallback_columns)]) if spec.fallback_columns else text(spec.column)


@per_contract
def field_exprs(contract: Contract) -> tuple[pl.Expr, ...]:
    types = TARGET_FIELDS[contract.target]
    exprs = []
    for name, spec in contract.fields.items():
        value = value_expr(name, spec)
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
            value = parse_timestamp(value, spec.format, contract.timezone)
        exprs.append(value.alias(name))
    return tuple(exprs)


def parse_timestamp(value: pl.Expr, fmt: str | None, timezone: str) -> pl.Expr:
    if fmt and ("%z" in fmt or "%:z" in fmt or "%#z" in fmt):
        parsed = value.str.strptime(pl.Datetime("us"), fmt, strict=False)
        return parsed.dt.convert_time_zone("UTC")
    parsed = value.str.strptime(pl.Datetime("us"), fmt, strict=False) if fmt else value.cast(pl.Datetime("us"), strict=False)
    # Local times that do not exist (spring-forward gap) become null and are quarantined;
    # ambiguous ones (fall-back hour) take the earlier instant.
    return parsed.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")


@per_contract
def key_expr(contract: Contract) -> pl.Expr:
    """The vendor record key; email parts normalized so case and spaces do not make new keys."""
    email_cols = {s.column for n, s in contract.fields.items() if TARGET_FIELDS[contract.target][n] == "email"}
    parts = [text(c).str.to_lowercase() if c in email_cols else text(c) for c in contract.record_key]
    key = pl.concat_str([p.fill_null("") for p in parts], separator="|")
    return pl.when(pl.all_horizontal([p.is_null() for p in parts])).then(None).otherwise(key)


def url_part_names(fields: frozenset[str]) -> list[str]:
    """The columns url_parts adds for a contract with these fields."""
    return ["landing_page", *(u for u in UTM_FIELDS if u not in fields), *(f for f in ("click_id", "campaign_id") if f not in fields)]


def url_parts(values: pl.DataFrame, fields: frozenset[str]) -> pl.DataFrame:
    """The landing page, utm_* (those the contract does not fill), click id and campaign id of each
    `landing_url`: a parameter's first `[?&]name=value`, '+' and '%20' read as spaces, empty as null.

    A URL is searched for a parameter only if it contains `name=` at all (the regex cannot match
    otherwise), and each value is extracted once into a column before it is cleaned."""
    extract, space, clean, scratch = _url_exprs(fields)
    return values.with_columns(extract).with_columns(space).with_columns(clean).drop(scratch)


@functools.cache
def _url_exprs(fields: frozenset[str]) -> tuple[list[pl.Expr], list[pl.Expr], list[pl.Expr], list[str]]:
    url = pl.col("landing_url")
    utms = [u for u in UTM_FIELDS if u not in fields]
    params = [*utms, *([] if "click_id" in fields else CLICK_ID_PARAMS), *([] if "campaign_id" in fields else CAMPAIGN_ID_PARAMS)]
    extract = [
        url.str.replace(r"[?#].*$", "").alias("landing_page"),
        *(pl.when(url.str.contains(f"{p}=", literal=True)).then(url).str.extract(rf"[?&]{p}=([^&#]*)", 1).alias(f"__qp_{p}")
          for p in params),
    ]
    space = [pl.col(f"__qp_{p}").str.replace_all("+", " ", literal=True).str.replace_all("%20", " ", literal=True) for p in params]
    param = {p: pl.when(pl.col(f"__qp_{p}") == "").then(None).otherwise(pl.col(f"__qp_{p}")) for p in params}
    clean = [
        *(param[u].alias(u) for u in utms),
        *([] if "click_id" in fields else [pl.coalesce([param[p] for p in CLICK_ID_PARAMS]).alias("click_id")]),
        *([] if "campaign_id" in fields else [pl.coalesce([param[p] for p in CAMPAIGN_ID_PARAMS]).alias("campaign_id")]),
    ]
    return extract, space, clean, [f"__qp_{p}" for p in params]


ON_DISTINCT_MIN_ROWS = 2_000  # measured: below this, evaluating every row is cheaper


def on_distinct(frame: pl.DataFrame, inputs: list[str], build: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.DataFrame:
    """The frame with the columns `build` adds to the distinct combinations of its `inputs` columns
    (row-wise values of those columns only), joined back: URL parsing and the classification
    regexes run on a file's distinct URLs, campaigns and utm values instead of on every row. A
    small file is evaluated row by row: the same values, without the unique and the join."""
    if frame.height < ON_DISTINCT_MIN_ROWS:  # a small file: the unique and the join cost more than they save
        return build(frame)
    values = build(frame.select(inputs).unique())
    return frame.join(values, on=inputs, how="left", nulls_equal=True, maintain_order="left")


def derive(contract: Contract, frame: pl.DataFrame) -> pl.DataFrame:
    """Columns every touchpoint has that the contract does not fill directly."""
    if contract.target != "touchpoints":
        return frame
    fields = frozenset(contract.fields)
    if "landing_url" in fields:
        frame = on_distinct(frame, ["landing_url"], lambda values: url_parts(values, fields))
    else:  # every part of a missing URL is null
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(name) for name in url_part_names(fields))
    missing, channel, need, final = _derive_exprs(contract)
    frame = frame.with_columns(missing)
    frame = on_distinct(frame, ["utm_source", "utm_medium"], lambda values: values.with_columns(channel))
    frame = on_distinct(frame, list(NEED_INPUTS), lambda values: values.with_columns(need))
    return frame.with_columns(final).drop("__channel_of_utm", "__need_of_text")


NEED_INPUTS = ("campaign_name", "utm_campaign", "landing_page", "touchpoint_type")


@per_contract
def _derive_exprs(contract: Contract) -> tuple[list[pl.Expr], pl.Expr, pl.Expr, list[pl.Expr]]:
    fields = set(contract.fields)
    missing: list[pl.Expr] = []
    for name in ("email", "anonymous_id", "contact_id", "referrer_email", "referral_code", "referred_by_code",
                 "campaign_name", "revenue",
                 "currency", "score", "score_scale", "channel", "journey_stage", "need"):
        if name not in fields:
            dtype = pl.Float64 if name in ("revenue", "score") else pl.String
            missing.append(pl.lit(None, dtype=dtype).alias(name))
    final = [
        pl.coalesce(
            pl.col("channel"),
            pl.col("__channel_of_utm"),
            pl.lit(contract.channel_default or "other"),
        ).alias("channel"),
        pl.coalesce(pl.col("journey_stage"), classification.stage_of_type()).alias("journey_stage"),
        pl.coalesce(pl.col("need"), pl.col("__need_of_text")).alias("need"),
    ]
    channel = classification.channel_from_utm().alias("__channel_of_utm")
    need = classification.need_of(list(NEED_INPUTS[:3])).alias("__need_of_text")
    return missing, channel, need, final
