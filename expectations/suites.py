"""Great Expectations suites as code: the lake's normalized tables (derived from ingestion/schema.py
and the vendor contracts) and the business rules of the marts.

Each suite is a list of expectations built fresh per validation (GX objects are not reusable
across contexts). An expectation fails its suite with ERROR unless its meta says
`severity: warning` (expectations/validate.py); the Dagster checks (orchestration/checks.py)
carry that severity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from expectations.validate import WARNING, SuiteSpec
from ingestion import schema
from ingestion.contracts import Contract

PLAUSIBLE_SINCE = "2000-01-01"  # an earlier timestamp is an epoch or placeholder date, not an interaction
LAKE_INDEX = ("source_file", "source_row")  # names a failing lake row: the export and its record number


def _gxe():
    import great_expectations.expectations as gxe  # imported lazily: ~2.6 s

    return gxe


def _rows(description: str, where: str, *, warn: bool = False, notes: str | None = None):
    """A business rule as SQL: the rows matching `where` break it. GX formats the query: write a
    literal brace (a regex quantifier) doubled, `{{3}}`."""
    meta = ({"notes": notes} if notes else {}) | ({"severity": WARNING} if warn else {})
    return _gxe().UnexpectedRowsExpectation(
        unexpected_rows_query=f"select * from {{batch}} where {where}", description=description, meta=meta)


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
    """All normalized touchpoints: schema, enumerations, one row per record of an export, no future
    timestamps, no negative revenue."""
    gxe = _gxe()
    now = now or datetime.now(UTC)
    out = _schema_expectations("touchpoints")
    out += [
        # one touchpoint per vendor record key in an export (a wide survey row holds several answers: several touchpoints)
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["source_file", "touchpoint_id"]),
        gxe.ExpectColumnValuesToBeBetween(column="occurred_at", max_value=now.isoformat()),
        gxe.ExpectColumnValuesToBeBetween(column="revenue", min_value=0),
    ]
    return out


def ad_spend_suite() -> list:
    """Ad platform campaign-day rows: schema, non-negative spend, clicks never above impressions."""
    gxe = _gxe()
    out = _schema_expectations("ad_spend")
    out += [
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["source_file", "spend_id"]),
        gxe.ExpectColumnValuesToBeBetween(column="spend", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="impressions", min_value=0),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="impressions", column_B="clicks", or_equal=True),
    ]
    return out


def family_profile(contracts: Iterable[Contract], family: str) -> dict[str, set[str] | None]:
    """What a family's contracts can produce: source systems, touchpoint types, channels (None when
    a contract derives the channel from the data)."""
    mine = [c for c in contracts if c.family == family and c.target == "touchpoints"]
    types: set[str] = set()
    channels: set[str] | None = set()
    for c in mine:
        kind = c.fields.get("touchpoint_type")
        if kind is not None:
            types |= ({kind.value} if kind.value else {v for v in (kind.map or {}).values() if v}) | ({kind.default} if kind.default else set())
        channel = c.fields.get("channel")
        if channel is None or channel.value is None:
            channels = None  # from the data (utm rules, a vendor column): any channel
        elif channels is not None:
            channels.add(channel.value)
    return {"systems": {c.name for c in mine}, "types": types, "channels": channels}


def family_suite(family: str, contracts: Iterable[Contract], now: datetime | None = None) -> list:
    """The touchpoints of one source family: what its contracts can produce, plausible times, and
    the rules of its kind of record (purchases carry an amount, survey answers a score on their scale)."""
    gxe = _gxe()
    now = now or datetime.now(UTC)
    profile = family_profile(contracts, family)
    out: list = [
        gxe.ExpectColumnValuesToBeInSet(column="source_system", value_set=sorted(profile["systems"])),
        gxe.ExpectColumnValuesToBeInSet(column="touchpoint_type", value_set=sorted(profile["types"]),
                                        meta={"notes": f"the types the {family} contracts can produce"}),
        gxe.ExpectColumnValuesToBeBetween(column="occurred_at", max_value=now.isoformat(), meta={"notes": "no future timestamps"}),
        _rows(f"occurred_at on or after {PLAUSIBLE_SINCE}", f"occurred_at < timestamptz '{PLAUSIBLE_SINCE} 00:00:00+00'", warn=True,
              notes="an earlier time is an epoch or placeholder date in the export"),
    ]
    if profile["channels"] is not None:
        out.append(gxe.ExpectColumnValuesToBeInSet(column="channel", value_set=sorted(profile["channels"])))
    if "purchase" in profile["types"]:
        out += [
            _rows("every purchase has an amount and a currency", "touchpoint_type = 'purchase' and (revenue is null or currency is null)"),
            _rows("purchase amounts are not negative", "touchpoint_type = 'purchase' and revenue < 0"),
            _rows("currencies are ISO 4217 codes (three capital letters)", "currency is not null and not regexp_full_match(currency, '[A-Z]{{3}}')"),
        ]
    if "survey_response" in profile["types"]:
        out.append(_rows("every survey answer has a score and a scale", "touchpoint_type = 'survey_response' and (score is null or score_scale is null)"))
        for scale, (low, high) in schema.SCORE_SCALES.items():
            out.append(_rows(f"{scale} scores lie in [{low}, {high}]", f"score_scale = '{scale}' and (score < {low} or score > {high})"))
    else:
        out.append(_rows(f"no scores outside surveys ({family})", "score is not null or score_scale is not null"))
    return out


def lake_specs(lake_relation: Callable[[str], str], contracts: Iterable[Contract], now: datetime | None = None) -> list[SuiteSpec]:
    """The lake's suites: touchpoints, ad spend, and the touchpoints of each source family (named
    by the family, validated on a view of the touchpoints table). `lake_relation(table)` is the SQL
    a lake table is read with (its parquet: the whole table, or the files not yet published:
    expectations/lake_scope.py)."""
    contracts = list(contracts)
    specs = [
        SuiteSpec("touchpoints", lambda: touchpoints_suite(now), "touchpoints", lake_relation("touchpoints"), LAKE_INDEX,
                  lake_table="touchpoints"),
        SuiteSpec("ad_spend", ad_spend_suite, "ad_spend", lake_relation("ad_spend"), LAKE_INDEX, lake_table="ad_spend"),
    ]
    for family in schema.SOURCE_FAMILIES:  # views of the touchpoints table: session() makes the tables in this order
        specs.append(SuiteSpec(family, lambda f=family: family_suite(f, contracts, now), f"{family}_touchpoints",
                               f"select * from touchpoints where source_family = '{family}'", LAKE_INDEX, view=True,
                               lake_table="touchpoints"))
    return specs


def mart_rules() -> dict[str, list]:
    """Business rules of the marts (the invariants of DESIGN.md an analyst would notice first),
    keyed by model. Validated on the staging warehouse before it is published.

    Not here, because they are checked once elsewhere and a second pass over the facts cost a night
    15 s at 9.3 M touchpoints: unique keys (dbt's `unique` tests on fct_touchpoints.touchpoint_id,
    fct_ad_spend.spend_id and dim_people.person_key, which fail the build), and touchpoints in the
    future (ingestion quarantines them, the lake suite checks every lake row: fct_touchpoints holds
    lake rows, timestamps unchanged)."""
    gxe = _gxe()
    share = lambda col: gxe.ExpectColumnValuesToBeBetween(column=col, min_value=0, max_value=1)  # noqa: E731
    return {
        "fct_ad_spend": [
            _rows("spend is not negative", "spend < 0 or spend_reporting < 0"),
            _rows("clicks never exceed impressions", "clicks > impressions"),
        ],
        "dim_people": [
            _rows("lifetime revenue is not negative", "lifetime_revenue_reporting < 0"),
            _rows("a customer has purchases and a first purchase time", "(purchases > 0) <> (first_purchase_at is not null)"),
            _rows("nobody buys before their first touch", "first_purchase_at < first_touch_at"),
        ],
        "mart_stage_funnel": [
            share("conversion_from_previous"), share("conversion_from_entry"),
            _rows("a stage never reaches more people than entered", "people_reached > people_entered or drop_off < 0"),
        ],
        "mart_retention_cohorts": [
            share("retention_rate"), share("first_return_rate"),
            _rows("active people never exceed the cohort", "active_people > cohort_size or period_offset < 0"),
        ],
        "mart_survey_scores": [
            gxe.ExpectColumnValuesToBeBetween(column="nps", min_value=-100, max_value=100),
            gxe.ExpectColumnValuesToBeBetween(column="csat", min_value=0, max_value=100),
            _rows("promoters + passives + detractors = responses (NPS)", "score_scale = 'nps_0_10' and promoters + passives + detractors <> responses"),
        ],
        "mart_channel_attribution": [
            share("credit"),
        ],
        "mart_channel_performance": [
            _rows("spend, conversions and revenue are not negative",
                  "spend_reporting < 0 or attributed_conversions < 0 or attributed_revenue_reporting < 0 or roas < 0"),
        ],
        "mart_referral_program": [
            _rows("referral rates are not negative", "viral_coefficient_k < 0 or invite_to_signup_rate < 0 or invites_per_active_customer < 0"),
        ],
    }


def mart_specs() -> list[SuiteSpec]:
    return [SuiteSpec(f"{model}_rules", lambda m=model: mart_rules()[m], model) for model in mart_rules()]
