"""Great Expectations suites as code, one per normalized table, derived from ingestion/schema.py.

Each suite is a list of expectations built fresh per validation (GX objects are not reusable
across contexts). Severity is decided by the Dagster check that runs the suite.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ingestion import schema


def _gxe():
    import great_expectations.expectations as gxe  # imported lazily: ~2.6 s

    return gxe


def _schema_expectations(table: str) -> list:
    gxe = _gxe()
    columns = schema.TABLES[table]()
    out: list = [gxe.ExpectTableColumnsToMatchSet(column_set=[c.name for c in columns], exact_match=True)]
    for col in columns:
        if not col.nullable:
            out.append(gxe.ExpectColumnValuesToNotBeNull(column=col.name))
        if col.accepted:
            out.append(gxe.ExpectColumnValuesToBeInSet(column=col.name, value_set=list(col.accepted)))
    return out


def touchpoints_suite(now: datetime | None = None) -> list:
    """Normalized touchpoints: schema, enumerations, no future timestamps, scores on their scale."""
    from great_expectations.expectations.row_conditions import Column as Where

    gxe = _gxe()
    now = now or datetime.now(UTC)
    out = _schema_expectations("touchpoints")
    out.append(gxe.ExpectColumnValuesToBeBetween(column="occurred_at", max_value=now.isoformat()))
    for scale, (low, high) in schema.SCORE_SCALES.items():
        out.append(gxe.ExpectColumnValuesToBeBetween(
            column="score", min_value=low, max_value=high,
            row_condition=Where("score_scale") == scale,
            meta={"notes": f"{scale} scores lie in [{low}, {high}]"},
        ))
    out.append(gxe.ExpectColumnValuesToBeBetween(column="revenue", min_value=0))
    return out


def ad_spend_suite() -> list:
    """Ad platform campaign-day rows: schema, non-negative spend, clicks never above impressions."""
    gxe = _gxe()
    out = _schema_expectations("ad_spend")
    out += [
        gxe.ExpectColumnValuesToBeBetween(column="spend", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="impressions", min_value=0),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="impressions", column_B="clicks", or_equal=True),
    ]
    return out
