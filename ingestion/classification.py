"""Journey classification as Polars expressions, driven by ingestion/mappings/journey.yaml."""

from __future__ import annotations

import polars as pl

from ingestion.schema import journey_mappings


def stage_of_type(type_col: str = "touchpoint_type") -> pl.Expr:
    """The journey stage of each touchpoint type."""
    mapping = {t: spec["stage"] for t, spec in journey_mappings()["touchpoint_types"].items()}
    return pl.col(type_col).replace_strict(mapping, default=None, return_dtype=pl.String)


def channel_from_utm(source_col: str = "utm_source", medium_col: str = "utm_medium") -> pl.Expr:
    """First matching utm rule's channel, or null when no rule matches."""
    cols = {"utm_source": source_col, "utm_medium": medium_col}
    chain = None
    for rule in journey_mappings()["utm_channel_rules"]:
        cond = pl.lit(True)
        for field, pattern in rule["when"].items():
            cond = cond & pl.col(cols[field]).fill_null("").str.contains(f"(?i){pattern}")
        chain = pl.when(cond).then(pl.lit(rule["channel"])) if chain is None else chain.when(cond).then(pl.lit(rule["channel"]))
    return chain.otherwise(pl.lit(None, dtype=pl.String)) if chain is not None else pl.lit(None, dtype=pl.String)


def need_of(text_cols: list[str], type_col: str = "touchpoint_type") -> pl.Expr:
    """First need rule matching any of the text columns, else the need implied by the type."""
    text = pl.concat_str([pl.col(c).fill_null("") for c in text_cols], separator=" ")
    by_type = pl.col(type_col).replace_strict(journey_mappings().get("need_by_type", {}), default=None, return_dtype=pl.String)
    chain = None
    for rule in journey_mappings()["need_rules"]:
        cond = text.str.contains(f"(?i){rule['pattern']}")
        chain = pl.when(cond).then(pl.lit(rule["need"])) if chain is None else chain.when(cond).then(pl.lit(rule["need"]))
    return chain.otherwise(by_type) if chain is not None else by_type
