"""Load the Dagster definitions and pin the asset graph: a lost asset or a broken import fails here."""

import dagster as dg
import pytest

from ingestion.contracts import load_contracts


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs

    return defs


ASSETS = {
    *(f"landing/{name}" for name in load_contracts()),
    "lake/touchpoints", "lake/ad_spend", "lake/quarantine", "lake/load_log", "lake/identity_links", "lake/identity_map",
    "mappings/journey_stages", "mappings/touchpoint_types", "mappings/currency_rates", "int_currency_rates",
    "stg_lake__touchpoints", "stg_lake__ad_spend", "stg_lake__quarantine", "stg_lake__load_log", "stg_lake__identity_map", "stg_lake__identity_links",
    "load_log", "quarantine",
    "incremental/inc_changed_files", "incremental/inc_changed_touchpoints", "incremental/inc_changed_ad_spend", "incremental/inc_lake_files",
    "incremental/inc_changed_people", "incremental/inc_touchpoint_files", "incremental/inc_build", "incremental/inc_lake_file_versions", "int_people_activity", "int_people_periods",
    "int_survey_answers",
    "int_ad_spend_deduplicated",
    "int_touchpoints_resolved", "int_touchpoints_staged", "int_referrals_by_code",
    "int_funnel_person_stages", "mart_stage_funnel_trend",
    "fct_touchpoints", "fct_ad_spend", "dim_people", "mart_stage_funnel", "mart_retention_cohorts", "mart_survey_scores", "mart_lifecycle",
    "int_attribution_conversions", "int_attribution_journeys", "int_attribution_paths", "int_attribution_journey_paths",
    "mart_attribution_paths", "mart_attribution_markov", "mart_channel_attribution", "mart_channel_performance",
    "int_referrals", "int_referral_generations", "mart_referral_chains", "mart_referral_attribution", "mart_referral_program",
    "warehouse/published", "quality/ingestion_report",
}


def test_asset_keys_are_pinned(defs):
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == ASSETS


def test_quality_checks_are_pinned(defs):
    checks = {k.to_user_string() for k in defs.resolve_asset_graph().asset_check_keys}
    assert {"lake/touchpoints:touchpoints_expectations", "lake/ad_spend:ad_spend_expectations",
            "lake/quarantine:rows_accounted_for", "lake/load_log:landing_volume", "lake/load_log:landing_freshness"} <= checks
    assert {"fct_touchpoints:unique_fct_touchpoints_touchpoint_id", "dim_people:unique_dim_people_person_key",
            "mart_stage_funnel:assert_funnel_counts_never_increase",
            "fct_touchpoints:assert_no_future_touchpoints"} <= checks
    assert len(checks) >= 40


def test_groups_and_lineage(defs):
    graph = defs.resolve_asset_graph()
    group = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert group["landing/shopify_orders"] == "sources"
    assert group["lake/touchpoints"] == "ingestion"
    assert group["stg_lake__touchpoints"] == "warehouse"
    assert group["mart_stage_funnel"] == "marts"
    upstream = {p.to_user_string() for p in graph.get(dg.AssetKey("stg_lake__touchpoints")).parent_keys}
    assert upstream == {"lake/touchpoints"}
    assert dg.AssetKey(["landing", "shopify_orders"]) in graph.get(dg.AssetKey(["lake", "touchpoints"])).parent_keys
    # the published warehouse comes after every dbt asset (a failure anywhere upstream skips it)
    published = graph.get(dg.AssetKey(["warehouse", "published"]))
    assert published.group_name == "warehouse"
    dbt_keys = {k for k in graph.get_all_asset_keys() if "dbt" in graph.get(k).kinds}
    assert len(dbt_keys) > 30 and published.parent_keys == dbt_keys


def test_landing_checks_block_on_volume_not_on_freshness(defs):
    graph = defs.resolve_asset_graph()
    load_log = dg.AssetKey(["lake", "load_log"])
    assert graph.get_check_spec(dg.AssetCheckKey(load_log, "landing_volume")).blocking is True
    assert graph.get_check_spec(dg.AssetCheckKey(load_log, "landing_freshness")).blocking is False


def test_jobs_and_schedules(defs):
    assert defs.resolve_job_def("nightly_job").name == "nightly_job"
    schedule = defs.resolve_schedule_def("nightly_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_ingestion_progress_lines_are_throttled_and_end_with_the_total():
    from pathlib import Path
    from types import SimpleNamespace

    from orchestration.normalize import progress_lines

    lines: list[str] = []
    report = progress_lines(lines.append, every_seconds=3600)
    for done in range(1, 4):
        report(SimpleNamespace(relative=f"ad_clicks/2026-10-0{done}/clicks.csv", path=Path("x")), done, 3)
    assert len(lines) == 1 and lines[0].startswith("ingestion: 3/3 files (100%)") and lines[0].endswith("ad_clicks/2026-10-03/clicks.csv")


def test_report_sensors_watch_the_nightly_job_and_are_on(defs):
    for name in ("report_after_success", "report_after_failure"):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
