"""The ingestion step: every landed export through its contract into the lake (Polars)."""


import time
from collections.abc import Callable

import dagster as dg

from ingestion import state, storage
from ingestion.contracts import Contract
from ingestion.landing import LandedFile
from ingestion.landing_zone import LandingZoneError
from ingestion.run import ingest, resolve_identities
from orchestration.partitions import bounds, days_of_step
from orchestration.resources import TouchlineResource
from orchestration.sources import landing_key
from touchline import quality_report

TOUCHPOINTS = dg.AssetKey(["lake", "touchpoints"])
AD_SPEND = dg.AssetKey(["lake", "ad_spend"])
QUARANTINE = dg.AssetKey(["lake", "quarantine"])
LOAD_LOG = dg.AssetKey(["lake", "load_log"])
IDENTITY_LINKS = dg.AssetKey(["lake", "identity_links"])
IDENTITY_MAP = dg.AssetKey(["lake", "identity_map"])
QUALITY_REPORT = dg.AssetKey(["quality", "ingestion_report"])
OWNERS = ["team:data-platform"]  # the ingestion side; the dbt models belong to analytics engineering (orchestration/dbt.py)
FULL_REFRESH_TAG = "touchline/full_refresh"  # "true" on a run: re-ingest every landed file (like TOUCHLINE_FULL_REFRESH=1)
REBUILD_DAYS_TAG = "touchline/rebuild_days"  # "true" on a run: dbt recomputes every row of the run's days (a backfill)


def build_normalize_asset(contracts: dict[str, Contract], partitions: dg.DailyPartitionsDefinition) -> dg.AssetsDefinition:
    """One step for all sources: each run reads the changed files of its days (daily partitions,
    a range in one run: orchestration/partitions.py), then the warehouse is built once."""
    deps = [landing_key(c) for c in contracts.values()]

    @dg.multi_asset(
        name="normalize_exports",
        specs=[
            dg.AssetSpec(TOUCHPOINTS, deps=deps, group_name="ingestion", kinds={"polars", "parquet"}, owners=OWNERS,
                         description="Canonical touchpoints (ingestion/schema.py), one parquet per landed export."),
            dg.AssetSpec(AD_SPEND, deps=deps, group_name="ingestion", kinds={"polars", "parquet"}, owners=OWNERS,
                         description="Campaign x day spend from ad platform reports."),
            dg.AssetSpec(QUARANTINE, deps=deps, group_name="ingestion", kinds={"polars", "parquet"}, owners=OWNERS,
                         description="Rows that could not be normalized, kept whole with the reason."),
            dg.AssetSpec(LOAD_LOG, deps=deps, group_name="ingestion", kinds={"polars", "parquet"}, owners=OWNERS,
                         description="Per file read by a run (new or changed files; unchanged ones are skipped): rows read = loaded + quarantined + exact duplicates."),
            dg.AssetSpec(IDENTITY_LINKS, deps=deps, group_name="ingestion", kinds={"polars", "parquet"}, owners=OWNERS,
                         description="Identifiers seen together on one record (email, visitor, contact and click ids), as keys."),
            # Written by this step, before the checks, so that it exists on the nights they fail.
            dg.AssetSpec(QUALITY_REPORT, deps=deps, group_name="quality", kinds={"json", "markdown"}, owners=OWNERS,
                         description="Per run: rows per source, the files that lost rows, quarantine counts by reason with "
                                     "examples (JSON + Markdown in docs/quality/ beside the warehouse)."),
        ],
        # Storage requests are retried by botocore first (ingestion/object_store.py); if the landing zone
        # still fails, the whole step runs again later. Safe: outputs are per source file, written
        # atomically, and the load_log file is named after the run, so a second attempt overwrites.
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def normalize_exports(context: dg.AssetExecutionContext, touchline: TouchlineResource):
        settings = touchline.settings()
        full_refresh = is_full_refresh(settings.full_refresh, context.run.tags)
        days = days_of_step(context)
        context.log.info(f"ingestion: landing days {days[0]} to {days[1]}" + (" (full refresh)" if full_refresh else ""))
        try:
            report = ingest(settings.landing, settings.lake, contracts, salt=settings.salt, batch_id=context.run.run_id,
                            progress=progress_lines(context.log.info), full_refresh=full_refresh,
                            days=days, bounds=bounds(partitions))
        except LandingZoneError as exc:
            # A missing bucket or refused credentials will not fix themselves: fail now, without retries.
            raise dg.Failure(description=str(exc), allow_retries=exc.retryable) from None
        report.write(settings.lake)
        totals = report.totals()
        context.log.info(f"ingestion: read {totals['files']:,} files"
                         + (" (full refresh)" if full_refresh else f", skipped {totals['files_skipped']:,} unchanged files"))
        for stray in report.strays:
            context.log.warning(f"landing zone: {stray['relative']}: {stray['reason']}")
        for gone in report.missing:
            context.log.warning(f"no longer in the landing zone: {gone['source_file']}; its rows stay in the lake "
                                "(a full refresh removes them)")
        elsewhere = sorted(d for d in state.stale_days(settings.lake, contracts, settings.salt) if not days[0] <= d <= days[1])
        if elsewhere:
            context.log.warning(f"{len(elsewhere)} landing days outside this run ({elsewhere[0]} to {elsewhere[-1]}) hold files read "
                                "with another contract, normalizer or salt: the next nightly run re-reads them "
                                "(or now: touchline run --from ... --to ...)")
        for gone in report.removed:
            context.log.warning(f"full refresh removed {gone['source_file']} from the lake: no longer in the landing zone")
        by_source = report.by_source()
        yield dg.MaterializeResult(
            asset_key=TOUCHPOINTS,
            metadata={
                "rows_read": totals["rows_read"],
                "rows_loaded": totals["rows_loaded"],
                "files": totals["files"],
                "files_skipped": totals["files_skipped"],
                "files_missing": totals["files_missing"],
                "files_removed": totals["files_removed"],
                "full_refresh": full_refresh,
                "landing_days": f"{days[0]} to {days[1]}",
                "by_source": dg.MetadataValue.json(by_source),
                "path": dg.MetadataValue.path(storage.table_glob(settings.lake, "touchpoints")),
            },
        )
        yield dg.MaterializeResult(asset_key=AD_SPEND, metadata={"path": dg.MetadataValue.path(storage.table_glob(settings.lake, "ad_spend"))})
        yield dg.MaterializeResult(
            asset_key=QUARANTINE,
            metadata={
                "rows_quarantined": totals["rows_quarantined"],
                "duplicates_dropped": totals["duplicates_dropped"],
                "files_rejected": totals["files_rejected"],
                "stray_paths": totals["strays"],
                "examples": dg.MetadataValue.json(report.quarantine_examples[:20]),
            },
        )
        yield dg.MaterializeResult(asset_key=LOAD_LOG, metadata={"files": totals["files"], "batch_id": report.batch_id})
        yield dg.MaterializeResult(asset_key=IDENTITY_LINKS, metadata={"path": dg.MetadataValue.path(storage.table_glob(settings.lake, "identity_links"))})
        quality = quality_report.build(settings.lake)
        written = quality_report.write(quality, settings.quality_reports_dir)
        markdown = quality_report.to_markdown(quality)
        yield dg.MaterializeResult(asset_key=QUALITY_REPORT, metadata={
            "markdown": dg.MetadataValue.path(str(written["md"])),
            "json": dg.MetadataValue.path(str(written["json"])),
            "reasons": len(quality["quarantine_by_reason"]),
            "files_with_losses": len(quality["files_with_losses"]),
            "report": dg.MetadataValue.md(markdown if len(markdown) < 50_000 else markdown[:50_000] + "\n\n(truncated: see the file)"),
        })

    return normalize_exports


def is_full_refresh(setting: bool, tags: dict[str, str]) -> bool:
    """TOUCHLINE_FULL_REFRESH, or the run's touchline/full_refresh tag (`touchline run --full-refresh`, the UI)."""
    return setting or tag_is_set(tags, FULL_REFRESH_TAG)


def rebuilds_days(tags: dict[str, str]) -> bool:
    """A backfill of a date range (`touchline run --from --to`, or the tag set in the UI): the
    warehouse recomputes every row of those days, not only what changed."""
    return tag_is_set(tags, REBUILD_DAYS_TAG)


def tag_is_set(tags: dict[str, str], name: str) -> bool:
    """A yes/no run tag (set in the CLI or typed in the UI's launchpad): 1, true or yes."""
    return tags.get(name, "").lower() in ("1", "true", "yes")


def progress_lines(log: Callable[[str], None], every_seconds: float = 5.0) -> Callable[[LandedFile, int, int], None]:
    """A progress callback for ingest(): one line at most every few seconds, and the last one."""
    started = last = time.monotonic()

    def report(landed: LandedFile, done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= every_seconds or done == total:
            last = now
            log(f"ingestion: {done:,}/{total:,} files ({done / total:.0%}) in {now - started:.0f} s; last {landed.relative}")

    return report


@dg.asset(key=IDENTITY_MAP, deps=[IDENTITY_LINKS], group_name="ingestion", kinds={"polars", "parquet"}, owners=OWNERS,
          description="One person per set of linked identifiers: alias key -> person key (ingestion/identity.py).")
def identity_map(touchline: TouchlineResource) -> dg.MaterializeResult:
    mapping = resolve_identities(touchline.settings().lake)
    return dg.MaterializeResult(metadata={
        "aliases": mapping.height,
        "people_with_aliases": mapping["person_key"].n_unique() if mapping.height else 0,
    })
