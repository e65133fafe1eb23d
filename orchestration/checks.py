"""Data-quality checks on the lake, run before dbt: a failing blocking check stops the marts (and
so the publication of the warehouse: orchestration/publish.py)."""


import json

import dagster as dg
import duckdb

from expectations.landing_health import as_rows, freshness_verdicts, volume_verdicts
from expectations.suites import ad_spend_suite, touchpoints_suite
from expectations.validate import SuiteOutcome, validate_parquet
from ingestion import storage
from orchestration.normalize import AD_SPEND, LOAD_LOG, QUARANTINE, TOUCHPOINTS
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


@dg.asset_check(asset=LOAD_LOG, blocking=True,
                description="Volume band per source: rows loaded on its newest landing day vs the average of the landing days before "
                            "(TOUCHLINE_VOLUME_*). ERROR: a half-empty export stops the marts.")
def landing_volume(touchline: TouchlineResource) -> dg.AssetCheckResult:
    """ERROR and blocking: a collapsed export yields marts that pass every row-level check and are
    still wrong (funnels, revenue and attribution quietly short by a source's day), and nobody
    reading them can tell. Yesterday's complete warehouse is the better thing to show until
    someone looks. (Expected gaps are rare and can be let through with TOUCHLINE_VOLUME_MIN_PERCENT.)"""
    s = touchline.settings()
    q = s.quality
    verdicts = volume_verdicts(s.lake, trailing_days=q.volume_trailing_days, min_percent=q.volume_min_percent,
                               min_rows=q.volume_min_rows)
    collapsed = [v for v in verdicts if v.status == "collapsed"]
    judged = [v for v in verdicts if v.status != "not judged"]
    if collapsed:
        description = (f"volume collapsed (below {q.volume_min_percent:g}% of the trailing average): "
                       + "; ".join(v.describe() for v in collapsed))
    else:
        description = (f"{len(judged)} of {len(verdicts)} sources judged, none below {q.volume_min_percent:g}% "
                       f"of its trailing {q.volume_trailing_days}-landing-day average")
    metadata = {
        "collapsed": dg.MetadataValue.json(as_rows(collapsed)),
        "sources": dg.MetadataValue.json(as_rows(verdicts)),
        "min_percent": q.volume_min_percent,
        "trailing_days": q.volume_trailing_days,
        "min_rows": q.volume_min_rows,
    }
    if collapsed:
        worst = min(collapsed, key=lambda v: v.percent)
        metadata |= {"source": worst.source, "day": worst.day, "rows": worst.rows,
                     "trailing_average": worst.trailing_average, "percent": worst.percent}
    return dg.AssetCheckResult(passed=not collapsed, severity=dg.AssetCheckSeverity.ERROR, description=description, metadata=metadata)


@dg.asset_check(asset=LOAD_LOG, blocking=False,
                description="Freshness per source: its newest landing day vs the run date (TOUCHLINE_FRESHNESS_MAX_AGE_DAYS, "
                            "TOUCHLINE_RUN_DATE). WARN: names the stale sources, publishes the rest.")
def landing_freshness(touchline: TouchlineResource) -> dg.AssetCheckResult:
    """WARN, not blocking: a late vendor leaves the marts consistent, only shorter at the end for
    that source; stopping the night would also hold back every source that did deliver. The
    warning names the stale sources so the gap is known (a stale source that then delivers a thin
    day is the volume check's business)."""
    s = touchline.settings()
    q = s.quality
    as_of = q.as_of()
    verdicts = freshness_verdicts(s.lake, as_of=as_of, max_age_days=q.freshness_max_age_days)
    stale = [v for v in verdicts if v.stale]
    if not verdicts:
        description = f"nothing has landed: no source delivered a file (run date {as_of})"
    elif stale:
        description = (f"{len(stale)} of {len(verdicts)} sources stale (newest landing day more than "
                       f"{q.freshness_max_age_days} days before {as_of}): " + ", ".join(v.describe() for v in stale))
    else:
        description = f"all {len(verdicts)} sources delivered within {q.freshness_max_age_days} days of {as_of}"
    return dg.AssetCheckResult(
        passed=bool(verdicts) and not stale,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "run_date": as_of.isoformat(),
            "max_age_days": q.freshness_max_age_days,
            "stale_sources": dg.MetadataValue.json([v.source for v in stale]),
            "sources": dg.MetadataValue.json(as_rows(verdicts)),
        },
    )


CHECKS = [touchpoints_expectations, ad_spend_expectations, rows_accounted_for, landing_volume, landing_freshness]
