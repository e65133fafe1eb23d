"""Data-quality checks on the lake, run before dbt: a failing blocking check stops the marts."""


import json

import dagster as dg
import duckdb

from expectations.suites import ad_spend_suite, touchpoints_suite
from expectations.validate import SuiteOutcome, validate_parquet
from ingestion import storage
from orchestration.normalize import AD_SPEND, QUARANTINE, TOUCHPOINTS
from orchestration.resources import TouchlineResource


def _result(outcome: SuiteOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR,
        description=("all expectations met" if outcome.success
                     else "; ".join(o.describe() for o in outcome.failures)),
        metadata={
            "rows_validated": outcome.rows,
            "expectations": len(outcome.outcomes),
            "failed_expectations": len(outcome.failures),
            "failures": dg.MetadataValue.json([
                {"expectation": o.expectation, "column": o.column, "unexpected_count": o.unexpected_count,
                 "unexpected_percent": o.unexpected_percent, "examples": o.examples}
                for o in outcome.failures
            ]),
        },
    )


@dg.asset_check(asset=TOUCHPOINTS, blocking=True, description="Great Expectations suite expectations/suites.py:touchpoints_suite")
def touchpoints_expectations(touchline: TouchlineResource) -> dg.AssetCheckResult:
    lake = touchline.settings().lake
    return _result(validate_parquet("touchpoints", storage.table_glob(lake, "touchpoints"), touchpoints_suite()))


@dg.asset_check(asset=AD_SPEND, blocking=True, description="Great Expectations suite expectations/suites.py:ad_spend_suite")
def ad_spend_expectations(touchline: TouchlineResource) -> dg.AssetCheckResult:
    lake = touchline.settings().lake
    return _result(validate_parquet("ad_spend", storage.table_glob(lake, "ad_spend"), ad_spend_suite()))


@dg.asset_check(asset=QUARANTINE, blocking=True, description="Every input row is accounted for, per file: read = loaded + quarantined + duplicates.")
def rows_accounted_for(touchline: TouchlineResource) -> dg.AssetCheckResult:
    lake = touchline.settings().lake
    report = json.loads((lake / "_reports" / "ingest_latest.json").read_text())
    broken = [f for f in report["files"]
              if f["rows_read"] != f["rows_loaded"] + f["rows_quarantined"] + f["duplicates_dropped"]]
    with duckdb.connect() as con:
        on_disk = dict(con.sql(
            f"select source_file, count(*) from read_parquet('{storage.table_glob(lake, 'quarantine')}', union_by_name = true) "
            "where source_row > 0 group by source_file").fetchall())
    mismatched = [f["source_file"] for f in report["files"] if on_disk.get(f["source_file"], 0) != f["rows_quarantined"]]
    totals = report["totals"]
    return dg.AssetCheckResult(
        passed=not broken and not mismatched,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(f"{totals['rows_read']} rows read = {totals['rows_loaded']} loaded + {totals['rows_quarantined']} quarantined"
                     f" + {totals['duplicates_dropped']} exact duplicates" if not broken and not mismatched
                     else f"unbalanced files: {[f['source_file'] for f in broken]}; quarantine on disk differs for {mismatched}"),
        metadata={k: v for k, v in totals.items()},
    )


CHECKS = [touchpoints_expectations, ad_spend_expectations, rows_accounted_for]
