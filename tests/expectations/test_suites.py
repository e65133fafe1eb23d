from datetime import UTC, datetime

import polars as pl
import pytest

from expectations.suites import ad_spend_suite, family_suite, touchpoints_suite
from expectations.validate import validate_parquet
from ingestion import schema
from ingestion.contracts import load_contracts
from touchline.settings import CONTRACTS_DIRS

CONTRACTS = list(load_contracts(*CONTRACTS_DIRS).values())

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def touchpoints(**changes) -> pl.DataFrame:
    base = {
        "touchpoint_id": ["t1", "t2"], "person_key": ["p1", "p2"],
        "occurred_at": [datetime(2026, 10, 1, tzinfo=UTC)] * 2, "source_family": ["survey"] * 2,
        "source_system": ["typeform_responses"] * 2, "channel": ["survey"] * 2,
        "touchpoint_type": ["survey_response"] * 2, "journey_stage": ["retention"] * 2, "need": [None, None],
        "score": [9.0, 5.0], "score_scale": ["nps_0_10", "csat_1_5"],
        "source_file": ["f"] * 2, "source_row": [1, 2], "ingested_at": [NOW] * 2, "batch_id": ["b"] * 2,
    }
    base.update(changes)
    frame = pl.DataFrame(base)
    return schema.empty_frame("touchpoints").vstack(
        frame.with_columns([pl.lit(None, dtype=d).alias(c) for c, d in schema.polars_schema("touchpoints").items() if c not in frame.columns])
        .select(schema.polars_schema("touchpoints").names()).cast(schema.polars_schema("touchpoints")))


def failures(frame: pl.DataFrame, suite, tmp_path) -> list[tuple[str, str | None, int | None]]:
    """Validate the frame the way the pipeline does: as parquet, through DuckDB SQL."""
    path = tmp_path / "table.parquet"
    frame.write_parquet(path)
    outcome = validate_parquet("t", str(path), suite)
    return [(o.expectation, o.column, o.unexpected_count) for o in outcome.failures]


def test_good_touchpoints_pass(tmp_path):
    assert failures(touchpoints(), touchpoints_suite(NOW), tmp_path) == []


@pytest.mark.parametrize(("changes", "expected"), [
    ({"channel": ["survey", "carrier_pigeon"]}, ("expect_column_values_to_be_in_set", "channel", 1)),
    ({"touchpoint_id": ["t1", "t1"]}, ("expect_compound_columns_to_be_unique", None, 2)),  # one record of an export loaded twice
    ({"revenue": [None, -5.0]}, ("expect_column_values_to_be_between", "revenue", 1)),
    ({"occurred_at": [datetime(2026, 12, 1, tzinfo=UTC)] * 2}, ("expect_column_values_to_be_between", "occurred_at", 2)),
    ({"person_key": ["p1", None]}, ("expect_column_values_to_not_be_null", "person_key", 1)),
])
def test_bad_touchpoints_fail_the_right_expectation(changes, expected, tmp_path):
    assert failures(touchpoints(**changes), touchpoints_suite(NOW), tmp_path) == [expected]


def test_missing_column_fails_the_schema_expectation(tmp_path):
    got = failures(touchpoints().drop("need"), touchpoints_suite(NOW), tmp_path)
    assert ("expect_table_columns_to_match_set", None, None) in got


def test_ad_spend_rules(tmp_path):
    frame = pl.DataFrame({
        "spend_id": ["s1", "s2", "s3"], "spend_date": [datetime(2026, 10, 1).date()] * 3, "source_system": ["g"] * 3,
        "channel": ["paid_search"] * 3, "campaign_id": ["c"] * 3, "campaign_name": ["n"] * 3,
        "impressions": [100, 5, 10], "clicks": [10, 6, 1], "spend": [1.0, 2.0, -3.0], "currency": ["USD"] * 3,
        "source_record_key": ["k1", "k2", "k3"], "source_file": ["f"] * 3, "source_row": [1, 2, 3],
        "ingested_at": [NOW] * 3, "batch_id": ["b"] * 3,
    }).cast(schema.polars_schema("ad_spend"))
    assert sorted(failures(frame, ad_spend_suite(), tmp_path)) == [
        ("expect_column_pair_values_a_to_be_greater_than_b", "impressions", 1),
        ("expect_column_values_to_be_between", "spend", 1),
    ]


def outcome_of(frame, suite, tmp_path):
    path = tmp_path / "table.parquet"
    frame.write_parquet(path)
    return validate_parquet("t", str(path), suite, index_columns=("source_file", "source_row"))


@pytest.mark.parametrize(("changes", "rule"), [
    ({"score": [11.0, 5.0]}, "nps_0_10 scores lie in [0, 10]"),
    ({"score": [9.0, 7.0]}, "csat_1_5 scores lie in [1, 5]"),  # CSAT 7 (NPS 7 would be fine)
    ({"score": [None, 5.0]}, "every survey answer has a score and a scale"),
    ({"touchpoint_type": ["survey_response", "purchase"]}, "expect_column_values_to_be_in_set"),  # not a survey contract's type
    ({"channel": ["survey", "email"]}, "expect_column_values_to_be_in_set"),  # survey contracts set channel survey
])
def test_the_survey_family_suite(changes, rule, tmp_path):
    assert outcome_of(touchpoints(), family_suite("survey", CONTRACTS, NOW), tmp_path).success
    outcome = outcome_of(touchpoints(**changes), family_suite("survey", CONTRACTS, NOW), tmp_path)
    assert [(o.expectation, o.unexpected_count, o.severity) for o in outcome.failures] == [(rule, 1, "ERROR")]
    assert outcome.severity == "ERROR"


def test_failures_name_the_file_and_row(tmp_path):
    """Column rules report a few failing values with the export and record they came from."""
    import great_expectations.expectations as gxe

    frame = touchpoints(score=[9.0, 4.0], source_file=["typeform_responses/2026-10-01/a.csv", "typeform_responses/2026-10-02/b.csv"])
    [failure] = outcome_of(frame, [gxe.ExpectColumnValuesToBeBetween(column="score", max_value=5)], tmp_path).failures
    assert failure.failing_rows == [{"source_file": "typeform_responses/2026-10-01/a.csv", "source_row": 1}]
    assert failure.examples == [9.0] and failure.unexpected_count == 1 and failure.unexpected_percent == 50.0
    assert "1 rows (50.00%), e.g. [9.0] in typeform_responses/2026-10-01/a.csv" in failure.describe()


def test_crm_purchases_need_an_amount_in_an_iso_currency(tmp_path):
    crm = touchpoints(source_family=["crm"] * 2, source_system=["shopify_orders"] * 2, touchpoint_type=["purchase"] * 2,
                      channel=["direct"] * 2, journey_stage=["purchase"] * 2, score=[None, None], score_scale=[None, None],
                      revenue=[10.0, 20.0], currency=["USD", "usd"])
    outcome = outcome_of(crm, family_suite("crm", CONTRACTS, NOW), tmp_path)
    assert [(o.expectation, o.unexpected_count) for o in outcome.failures] == [
        ("currencies are ISO 4217 codes (three capital letters)", 1)]


def test_an_implausibly_old_timestamp_only_warns(tmp_path):
    frame = touchpoints(occurred_at=[datetime(1970, 1, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)])
    outcome = outcome_of(frame, family_suite("survey", CONTRACTS, NOW), tmp_path)
    assert [(o.expectation, o.severity) for o in outcome.failures] == [("occurred_at on or after 2000-01-01", "WARN")]
    assert not outcome.success and outcome.severity == "WARN"


def test_a_rule_that_cannot_be_evaluated_fails_with_its_error(tmp_path):
    """A broken rule (here: a column the table lacks) must fail loudly, never pass or report a bare 'failed'."""
    from expectations.suites import _rows

    [failure] = outcome_of(touchpoints(), [_rows("a rule on a column that is not there", "no_such_column > 0")], tmp_path).failures
    assert failure.error and "no_such_column" in failure.error
    assert "could not be evaluated" in failure.describe()
