"""Data-quality checks on the lake, run before dbt: a failing blocking check stops the marts (and
so the publication of the warehouse: orchestration/publish.py)."""


import json
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
import duckdb

from expectations import lake_scope
from expectations.landing_health import as_rows, freshness_verdicts, volume_verdicts
from expectations.lake_scope import LakeScope
from expectations.suites import lake_specs, mart_specs
from expectations.validate import SuiteOutcome, SuiteSpec
from expectations.validate import session as gx_session
from ingestion import state, storage
from ingestion.contracts import Contract
from ingestion.normalize import MISSING_COLUMNS
from orchestration.builds import full_rebuild_reason, published_lake_files
from orchestration.normalize import AD_SPEND, LOAD_LOG, QUARANTINE, TOUCHPOINTS
from orchestration.resources import TouchlineResource
from touchline.settings import Settings


def _result(outcome: SuiteOutcome, check_name: str, asset_key: dg.AssetKey, docs: str | None,
            scope: LakeScope | None = None) -> dg.AssetCheckResult:
    failures = outcome.failures
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key=asset_key,
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR if outcome.severity == "ERROR" else dg.AssetCheckSeverity.WARN,
        description=(f"all {len(outcome.outcomes)} expectations met on {outcome.rows:,} rows" + (f": {scope.describe()}" if scope else "")
                     if outcome.success
                     else f"{len(failures)} of {len(outcome.outcomes)} expectations failed on {outcome.rows:,} rows"
                          + (f" ({scope.describe()})" if scope else "") + ": " + "; ".join(o.describe() for o in failures)),
        metadata={
            "suite": outcome.suite,
            "rows_validated": outcome.rows,
            **(scope.metadata() if scope else {}),
            "expectations": len(outcome.outcomes),
            "failed_expectations": len(failures),
            "failures": dg.MetadataValue.json([
                {"expectation": o.expectation, "column": o.column, "severity": o.severity, "unexpected_count": o.unexpected_count,
                 "unexpected_percent": o.unexpected_percent, "examples": o.examples, "failing_rows": o.failing_rows, "notes": o.notes}
                for o in failures
            ]),
            **({"data_docs": dg.MetadataValue.path(docs)} if docs else {}),
        },
    )


def _validate(context: dg.AssetCheckExecutionContext, specs: list[tuple[dg.AssetCheckSpec, SuiteSpec]], docs_dir: Path,
              assets: Path, database: Path | None = None) -> tuple[list[tuple[dg.AssetCheckSpec, SuiteOutcome]], str | None]:
    """Validate the selected suites in one GX session and write their Data Docs: the outcome per
    selected check, and the docs' path. The session makes the tables of all the suites (a selected
    one may be a view of another)."""
    selected = [(check, suite) for check, suite in specs if check.key in context.selected_asset_check_keys]
    with gx_session(database, tables=[suite for _, suite in specs], run_name=context.run.run_id) as session:
        outcomes = [(check, session.validate(suite)) for check, suite in selected]
        docs = None
        try:
            docs = str(session.build_docs(docs_dir, assets))
        except Exception as exc:  # unreadable docs must not hold back the night; the checks still decide
            context.log.warning(f"Great Expectations Data Docs not written to {docs_dir}: {type(exc).__name__}: {exc}")
    return outcomes, docs


def lake_scopes(s: Settings, tags: dict[str, str], rules_changed: set[str] = frozenset()) -> dict[str, LakeScope]:
    """What the lake suites read, per lake table: the lake files the published warehouse has not
    read (expectations/lake_scope.py says why that decides as much as the whole lake would), or the
    whole table when the run builds the warehouse whole (a full refresh, no published warehouse yet,
    one without the ledger or built by another dbt project: the dbt step's own test,
    orchestration/builds.py), when its ledger cannot be read, or when the table's suites changed since the whole lake last passed them
    (`rules_changed`: tables)."""
    why = full_rebuild_reason(s, tags)
    published = None if why else published_lake_files(s.warehouse)
    if why is None and published is None:  # no published warehouse is already a reason for a whole build
        why = f"the ledger of {s.warehouse} cannot be read"
    out = {}
    for table in lake_scope.LAKE_TABLES:
        if why:
            out[table] = LakeScope(s.lake, table, why)
        elif table in rules_changed:
            out[table] = LakeScope(s.lake, table, "its suites changed since the whole lake last passed them")
        else:
            out[table] = lake_scope.unpublished(s.lake, table, published.get(table, set()))
    return out


def build_lake_expectations(contracts: dict[str, Contract]) -> dg.AssetChecksDefinition:
    """The lake's Great Expectations suites (expectations/suites.py): touchpoints, ad spend, and the
    touchpoints of each source family, as blocking checks validated in one session before dbt.
    A night validates the lake files the published warehouse has not read yet, a full build the
    whole lake (lake_scopes)."""
    lake_table = {s.name: s.lake_table for s in lake_specs(str, contracts.values())}  # per suite; its files are resolved per run
    names = list(lake_table)
    specs = [dg.AssetCheckSpec(f"{name}_expectations", asset=AD_SPEND if lake_table[name] == "ad_spend" else TOUCHPOINTS, blocking=True,
                               description=f"Great Expectations suite {name} (expectations/suites.py) on the lake files the "
                                           "published warehouse has not read yet (the whole lake on a full build); "
                                           "fails with ERROR, or WARN when only warning expectations failed.")
             for name in names]

    @dg.multi_asset_check(specs=specs, can_subset=True, name="lake_expectations")
    def lake_expectations(context: dg.AssetCheckExecutionContext, touchline: TouchlineResource):
        s = touchline.settings()
        selected = {name for name, check in zip(names, specs, strict=True) if check.key in context.selected_asset_check_keys}
        rules = {name: fp for name, fp in lake_scope.suite_fingerprints(
            lake_specs(str, contracts.values(), now=lake_scope.FINGERPRINT_NOW)).items() if name in selected}
        passed = lake_scope.validated_fingerprints(s.lake)
        scopes = lake_scopes(s, context.run.tags, {lake_table[name] for name, fp in rules.items() if passed.get(name) != fp})
        for scope in scopes.values():
            context.log.info(f"lake expectations read {scope.describe()}")
        pairs = list(zip(specs, lake_specs(lambda table: scopes[table].relation, contracts.values()), strict=True))
        outcomes, docs = _validate(context, pairs, s.gx_docs_dir / "lake", s.data_docs_assets)
        for check, outcome in outcomes:
            yield _result(outcome, check.name, check.asset_key, docs, scopes[lake_table[outcome.suite]])
        # the suites the whole lake passed (a warning lets the night publish): tomorrow needs only the unpublished files
        whole_passed = {o.suite: rules[o.suite] for _, o in outcomes if scopes[lake_table[o.suite]].whole and o.severity != "ERROR"}
        if whole_passed:
            lake_scope.record_validated(s.lake, whole_passed)

    return lake_expectations


def build_mart_expectations(dbt_keys: Iterable[dg.AssetKey]) -> dg.AssetChecksDefinition:
    """The marts' business rules (expectations/suites.py:mart_rules) on the staging warehouse dbt
    just built: blocking, so a broken rule stops the publication."""
    known = {key.path[-1]: key for key in dbt_keys}
    suites = [s for s in mart_specs() if s.table in known]
    specs = [dg.AssetCheckSpec("business_rules", asset=known[s.table], blocking=True,
                               description=f"Great Expectations suite {s.name} (expectations/suites.py:mart_rules) on the staging build.")
             for s in suites]

    @dg.multi_asset_check(specs=specs, can_subset=True, name="mart_expectations")
    def mart_expectations(context: dg.AssetCheckExecutionContext, touchline: TouchlineResource):
        s = touchline.settings()
        outcomes, docs = _validate(context, list(zip(specs, suites, strict=True)), s.gx_docs_dir / "marts", s.data_docs_assets,
                                   database=s.staging_warehouse)
        for check, outcome in outcomes:
            yield _result(outcome, check.name, check.asset_key, docs)

    return mart_expectations


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


@dg.asset_check(asset=QUARANTINE, blocking=True,
                description="Landed files in the lake: none rejected whole (unreadable, wrong delimiter) or missing a mapped column, "
                            "none losing more than TOUCHLINE_QUARANTINE_MAX_PERCENT of its rows to quarantine. ERROR.")
def ingestion_quarantine(touchline: TouchlineResource) -> dg.AssetCheckResult:
    """Quarantine keeps every bad row with its reason, so nothing is lost; but a file rejected
    whole, or one losing a large share of its rows, leaves the marts short of that export's day
    in a way no later check can see (the rows that did load are valid). That stops the night, and
    the message names the file, the count and the reasons."""
    s = touchline.settings()
    q = s.quality
    # Every file the lake holds, as last read: a file that stopped a night keeps stopping the next
    # ones (incremental ingestion does not read it again) until it is re-delivered fixed or the
    # threshold is changed. (Without a state yet, the files of the latest run.)
    files = list(state.load(s.lake).values()) or json.loads((s.lake / "_reports" / "ingest_latest.json").read_text())["files"]
    with duckdb.connect() as con:
        reasons = con.execute(
            f"select source_file, reason, count(*) as n, starts_with(reason, $missing) as missing_columns from "
            f"read_parquet('{storage.table_glob(s.lake, 'quarantine')}', union_by_name = true) "
            "group by all order by source_file, n desc, reason", {"missing": MISSING_COLUMNS}).fetchall()
    by_file: dict[str, list[str]] = {}
    unusable: set[str] = set()  # files without a column their contract maps: every row quarantined for it
    for source_file, reason, n, missing_columns in reasons:
        by_file.setdefault(source_file, []).append(f"{reason} (x{n})" if n > 1 else reason)
        if missing_columns:
            unusable.add(source_file)
    rejected = [f for f in files if f["file_rejected"]]
    # a file without a column its contract maps is lost whole too, whatever its size (its rows wait in quarantine)
    emptied = [f for f in files if not f["file_rejected"] and f["source_file"] in unusable]
    over = [f for f in files if not f["file_rejected"] and f["source_file"] not in unusable and f["rows_read"] >= q.quarantine_min_rows
            and 100 * f["rows_quarantined"] / f["rows_read"] > q.quarantine_max_percent]
    reasons_of = lambda f, n: "; ".join(by_file.get(f["source_file"], ["(reason not in quarantine)"])[:n])  # noqa: E731
    problems = ([f"{f['source_file']}: rejected whole: {reasons_of(f, 1)}" for f in rejected]
                + [f"{f['source_file']}: nothing loaded, all {f['rows_quarantined']} rows quarantined: {reasons_of(f, 1)}" for f in emptied]
                + [f"{f['source_file']}: {f['rows_quarantined']} of {f['rows_read']} rows quarantined "
                   f"({100 * f['rows_quarantined'] / f['rows_read']:.1f}% > {q.quarantine_max_percent:g}%), e.g. {reasons_of(f, 3)}" for f in over])
    quarantined = sum(f["rows_quarantined"] for f in files)
    description = ("; ".join(problems) if problems else
                   f"no file rejected; {quarantined} rows quarantined across {sum(1 for f in files if f['rows_quarantined'])} "
                   f"of {len(files)} files, none above {q.quarantine_max_percent:g}% of a file "
                   f"(files under {q.quarantine_min_rows} rows not judged)")
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "files_rejected": dg.MetadataValue.json([f["source_file"] for f in rejected + emptied]),
            "files_over_limit": dg.MetadataValue.json([
                {"file": f["source_file"], "rows_read": f["rows_read"], "rows_quarantined": f["rows_quarantined"],
                 "reasons": by_file.get(f["source_file"], [])[:5]} for f in over]),
            "rows_quarantined": quarantined,
            "max_percent": q.quarantine_max_percent,
            "min_rows": q.quarantine_min_rows,
        },
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


LAKE_CHECKS = [rows_accounted_for, ingestion_quarantine, landing_volume, landing_freshness]


def build_checks(contracts: dict[str, Contract], dbt_keys: Iterable[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    return [build_lake_expectations(contracts), *LAKE_CHECKS, build_mart_expectations(dbt_keys)]
