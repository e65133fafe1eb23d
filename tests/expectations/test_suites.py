from datetime import UTC, datetime

import polars as pl
import pytest

from expectations.suites import ad_spend_suite, touchpoints_suite
from expectations.validate import validate_parquet
from ingestion import schema

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
    ({"score": [11.0, 5.0]}, ("expect_column_values_to_be_between", "score", 1)),  # NPS 11
    ({"score": [9.0, 7.0]}, ("expect_column_values_to_be_between", "score", 1)),  # CSAT 7 (NPS 7 would be fine)
    ({"channel": ["survey", "carrier_pigeon"]}, ("expect_column_values_to_be_in_set", "channel", 1)),
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
