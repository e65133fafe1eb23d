"""Vendor text -> typed canonical fields, as Polars expressions driven by a contract.

Nothing here decides that a row is bad: a value that does not parse becomes null, and
validation.py compares it with the vendor's text to quarantine the row with a reason.
"""

from __future__ import annotations

import polars as pl

from ingestion import classification
from ingestion.contracts import TARGET_FIELDS, Contract, FieldSpec

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


def field_exprs(contract: Contract) -> list[pl.Expr]:
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
    return exprs


def parse_timestamp(value: pl.Expr, fmt: str | None, timezone: str) -> pl.Expr:
    if fmt and ("%z" in fmt or "%:z" in fmt or "%#z" in fmt):
        parsed = value.str.strptime(pl.Datetime("us"), fmt, strict=False)
        return parsed.dt.convert_time_zone("UTC")
    parsed = value.str.strptime(pl.Datetime("us"), fmt, strict=False) if fmt else value.cast(pl.Datetime("us"), strict=False)
    # Local times that do not exist (spring-forward gap) become null and are quarantined;
    # ambiguous ones (fall-back hour) take the earlier instant.
    return parsed.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")


def key_expr(contract: Contract) -> pl.Expr:
    """The vendor record key; email parts normalized so case and spaces do not make new keys."""
    email_cols = {s.column for n, s in contract.fields.items() if TARGET_FIELDS[contract.target][n] == "email"}
    parts = [text(c).str.to_lowercase() if c in email_cols else text(c) for c in contract.record_key]
    key = pl.concat_str([p.fill_null("") for p in parts], separator="|")
    return pl.when(pl.all_horizontal([p.is_null() for p in parts])).then(None).otherwise(key)


def query_param(url: pl.Expr, param: str) -> pl.Expr:
    value = url.str.extract(rf"[?&]{param}=([^&#]*)", 1)
    value = value.str.replace_all("+", " ", literal=True).str.replace_all("%20", " ", literal=True)
    return pl.when(value == "").then(None).otherwise(value)


def derive(contract: Contract, frame: pl.DataFrame) -> pl.DataFrame:
    """Columns every touchpoint has that the contract does not fill directly."""
    if contract.target != "touchpoints":
        return frame
    fields = set(contract.fields)
    cols: list[pl.Expr] = []
    url = pl.col("landing_url") if "landing_url" in fields else pl.lit(None, dtype=pl.String)
    cols.append(url.str.replace(r"[?#].*$", "").alias("landing_page"))
    for utm in UTM_FIELDS:
        if utm not in fields:
            cols.append(query_param(url, utm).alias(utm))
    if "click_id" not in fields:
        cols.append(pl.coalesce([query_param(url, p) for p in CLICK_ID_PARAMS]).alias("click_id"))
    if "campaign_id" not in fields:
        cols.append(pl.coalesce([query_param(url, p) for p in CAMPAIGN_ID_PARAMS]).alias("campaign_id"))
    for name in ("email", "anonymous_id", "contact_id", "referrer_email", "referral_code", "referred_by_code",
                 "campaign_name", "revenue",
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
