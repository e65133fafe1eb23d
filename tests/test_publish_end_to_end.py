"""Blocked means untouched: whole Dagster runs on the tiny landing zone of test_pipeline_end_to_end.

A good night publishes the staging warehouse dbt built; a night stopped by a blocking check, by a
dbt test or by the volume band publishes nothing, and the warehouse analysts read stays
byte-identical with its previous content. A reader in another process keeps querying while a
run publishes."""

import json
import re
import shutil
from datetime import date, timedelta

import dagster as dg
import pytest
from typer.testing import CliRunner

from tests.helpers import write_export
from tests.test_pipeline_end_to_end import query, tiny_landing, use_dirs
from tests.test_publish import reader
from touchline.demo.vendors import HEADERS
from touchline.publish import file_sha256, wal_path

RUN_DATE = "2026-10-21"
GOOD_SPEND = [(2, 16.70)]  # fct_ad_spend of the tiny landing zone: rows, sum(spend)


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """The tiny landing zone, run once: the previous good night of every test here."""
    from touchline.pipeline import run_pipeline

    data = tmp_path_factory.mktemp("good")
    tiny_landing(data / "landing")
    with pytest.MonkeyPatch.context() as mp:
        s = use_dirs(mp, data)
        mp.setenv("TOUCHLINE_RUN_DATE", RUN_DATE)
        outcome = run_pipeline(s)
    assert outcome.success, [c.description for c in outcome.failed_checks]
    return s, outcome


def next_night(good, tmp_path, monkeypatch):
    """A copy of the good night's data folder (landing zone, lake, warehouse, Dagster history) to add a day to."""
    s, _ = good
    data = tmp_path / "data"
    shutil.copytree(s.data_dir, data)
    s = use_dirs(monkeypatch, data)
    monkeypatch.setenv("TOUCHLINE_RUN_DATE", RUN_DATE)
    return s, file_sha256(s.warehouse)


def assert_untouched(s, sha_before):
    """The published warehouse is the previous good one, byte for byte, and still reads as it."""
    assert file_sha256(s.warehouse) == sha_before
    assert not wal_path(s.warehouse).exists()
    assert query(s, "select count(*), round(sum(spend), 2) from fct_ad_spend") == GOOD_SPEND
    assert query(s, "select count(*) from fct_touchpoints") == [(14,)]
    assert query(s, "select lifetime_revenue from dim_people where lifetime_revenue > 100") == [(150.0,)]  # Alice


def test_a_good_night_publishes_the_staging_build(good):
    s, outcome = good
    assert outcome.published and "warehouse/published" not in outcome.skipped_assets
    assert s.warehouse.exists() and not s.staging_warehouse.exists()
    assert not wal_path(s.warehouse).exists() and not wal_path(s.staging_warehouse).exists()
    assert query(s, "select count(*), round(sum(spend), 2) from fct_ad_spend") == GOOD_SPEND
    # every view still resolves under the published name (they read the lake by absolute path)
    views = query(s, "select table_schema, table_name from information_schema.tables where table_type = 'VIEW'")
    assert len(views) >= 6
    for schema_name, view in views:
        query(s, f'select * from "{schema_name}"."{view}" limit 1')
    # the publication is recorded with the file's checksum, and `touchline marts` reads its build times
    with dg.DagsterInstance.from_config(str(s.dagster_home)) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["warehouse", "published"]))
        metadata = event.asset_materialization.metadata
        assert metadata["sha256"].value == file_sha256(s.warehouse)
        assert metadata["rows"].value["fct_ad_spend"] == 2
        assert set(metadata["built_at"].value) >= {"fct_touchpoints", "dim_people", "mart_stage_funnel"}
        # the UI shows each dbt table's row count and column types from its materialization
        funnel = instance.get_latest_materialization_event(dg.AssetKey("mart_stage_funnel")).asset_materialization.metadata
        assert funnel["dagster/row_count"].value == query(s, "select count(*) from mart_stage_funnel")[0][0]
        assert [(c.name, c.type) for c in funnel["dagster/column_schema"].value.columns][:2] == [("entry_period", "TIMESTAMP"), ("breakdown", "VARCHAR")]
        # a view shows its columns but is not counted (that would run its query over the whole lake)
        staged = instance.get_latest_materialization_event(dg.AssetKey("stg_lake__touchpoints")).asset_materialization.metadata
        assert "dagster/row_count" not in staged and staged["dagster/column_schema"].value.columns
    # the night's dbt docs: one page holding the manifest and the catalog, readable offline
    docs = (s.dbt_docs_dir / "index.html").read_text()
    assert "mart_channel_attribution" in docs and "Credit of each conversion" in docs
    assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="https?://', docs)


def test_touchline_marts_shows_when_the_published_tables_were_built(good, monkeypatch):
    from touchline.cli import app

    s, _ = good
    use_dirs(monkeypatch, s.data_dir)
    result = CliRunner().invoke(app, ["marts"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.strip().startswith("fct_ad_spend"))
    cells = [c.strip() for c in row.split("│")]
    assert cells[1] == "2" and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", cells[2]), cells  # a build time, not "-"


def test_a_failed_blocking_check_publishes_nothing(good, tmp_path, monkeypatch):
    """Negative spend fails the ad spend suite: dbt and the publication are skipped, the CLI exits 1
    and says the warehouse was not published; the published file is byte-identical."""
    from touchline.cli import app

    s, sha = next_night(good, tmp_path, monkeypatch)
    write_export(s.landing, "google_ads_campaign_day", "2026-10-02",
                 [["2026-10-02", "111", "Spring Sale - Search", "USD", "900", "9", "-5.00"]],
                 preamble="Campaign performance report\nOctober 2, 2026 - October 2, 2026\n")
    result = CliRunner().invoke(app, ["run"])
    output = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert "FAILED lake/ad_spend:ad_spend_expectations (ERROR)" in output
    assert "NOT published by this run: analysts still read the previous good build" in output
    assert "warehouse/published" in output.split("Not built because an upstream check or step failed:")[1]
    assert not s.staging_warehouse.exists()  # dbt never started
    assert_untouched(s, sha)
    # the night's quality report is written all the same (by the ingestion step, before the checks)
    report = json.loads((s.quality_reports_dir / "latest.json").read_text())
    # tonight's one file was read; the tiny zone's 17 files were skipped as unchanged since the good night
    assert (report["totals"]["files"], report["totals"]["files_skipped"]) == (1, 17) and report["batch_id"] != good[1].run_id
    google = next(row for row in report["by_source"] if row["source"] == "google_ads_campaign_day")
    assert (google["files"], google["rows_loaded"]) == (1, 1)  # the bad row passed ingestion: its value is the suite's business
    # and the HTML report says what broke, beside the charts of the marts analysts still have
    html = (s.warehouse.parent / "report.html").read_text()
    assert "lake/ad_spend:ad_spend_expectations" in html and html.count('<figure class="chart"') == 7
    html = " ".join(html.split())
    assert "1 rows read from 1 files" in html and "17 unchanged files skipped" in html  # tonight's ingestion, not the published night's


def test_a_failed_dbt_test_publishes_nothing(good, tmp_path, monkeypatch):
    """An order in Swiss francs passes every lake check (any ISO code is a currency) but has no rate
    in seeds/currency_rates.csv: only the dbt test assert_every_amount_has_a_rate sees it. dbt
    build fails on it, the marts after it are not built, and nothing is published."""
    from touchline.pipeline import run_pipeline

    s, sha = next_night(good, tmp_path, monkeypatch)
    write_export(s.landing, "shopify_orders", "2026-10-21", [
        ["#4", "bob@example.com", "paid", "2026-10-21 10:00:00 -0400", "CHF", "60.00", "0.00", "0.00", "60.00", "", "web"]])
    outcome = run_pipeline(s)
    assert not outcome.success and not outcome.published
    failed = {c.name: c.severity for c in outcome.failed_checks}
    assert failed.get("int_touchpoints_staged:assert_every_amount_has_a_rate") == "ERROR", failed
    assert not [name for name in failed if name.startswith("lake/") and failed[name] == "ERROR"]  # the lake checks passed
    assert outcome.failed_steps == ["touchline_dbt_assets"]
    assert "warehouse/published" in outcome.skipped_assets
    assert s.staging_warehouse.exists()  # the half-built staging file stays aside for a look; the next run starts afresh
    assert_untouched(s, sha)


def test_a_collapsed_source_publishes_nothing(good, tmp_path, monkeypatch):
    """Mailchimp delivers about 40 opens a day for eight days, then 2: the volume band (ERROR,
    blocking) stops dbt and the publication, naming the source, the day and the numbers."""
    from touchline.pipeline import run_pipeline

    s, sha = next_night(good, tmp_path, monkeypatch)
    first = date(2026, 10, 12)
    for offset in range(9):
        day = first + timedelta(days=offset)
        write_export(s.landing, "mailchimp_activity", day.isoformat(), [
            [f"reader{i}@example.com", "R", str(i), "Weekly Newsletter", "c2", "open", f"{day} 10:00:00", ""]
            for i in range(2 if offset == 8 else 40)])
    outcome = run_pipeline(s)
    assert not outcome.success and not outcome.published
    [volume] = [c for c in outcome.failed_checks if c.name == "lake/load_log:landing_volume"]
    assert volume.severity == "ERROR"
    assert "mailchimp_activity 2026-10-20: 2 rows loaded, 5.0% of the average of the 7 landing days before (40.0)" in volume.description
    assert "fct_touchpoints" in outcome.skipped_assets and "warehouse/published" in outcome.skipped_assets
    assert_untouched(s, sha)


def test_a_reader_in_another_process_sees_the_old_or_the_new_warehouse_while_a_run_publishes(good, tmp_path, monkeypatch):
    """Two reader processes query the published file throughout a good run that adds a spend day:
    one opening a read-only connection per query (as `touchline query` does), one holding a
    connection opened before the run. Neither ever gets an error; the first sees the old state,
    then the new one, never a mix and never back; the second keeps the old file it opened."""
    from touchline.pipeline import run_pipeline

    s, _ = next_night(good, tmp_path, monkeypatch)
    write_export(s.landing, "google_ads_campaign_day", "2026-10-20", [["2026-10-20", "111", "Spring Sale - Search", "USD", "800", "8", "7.30"]],
                 preamble="Campaign performance report\nOctober 20, 2026 - October 20, 2026\n")
    sql = "select count(*), round(sum(spend), 2), (select count(*) from dim_people) from fct_ad_spend"
    old, new = [2, 16.7, 4], [3, 24.0, 4]
    with reader(s.warehouse, sql, tmp_path, "fresh", pause=0.05) as fresh, \
            reader(s.warehouse, sql, tmp_path, "held", hold=True, pause=0.05) as held:
        outcome = run_pipeline(s)
    assert outcome.success and outcome.published, [c.description for c in outcome.failed_checks]
    assert fresh()["errors"] == [] and held()["errors"] == []
    assert [state for state, _ in fresh()["states"]] == [old, new]
    assert fresh()["states"][0][1] > 5  # it read many times before the publication, and after it
    assert [state for state, _ in held()["states"]] == [old]
    assert query(s, "select count(*), round(sum(spend), 2) from fct_ad_spend") == [(3, 24.0)]


def test_a_subset_build_starts_from_a_copy_of_the_published_warehouse(good, tmp_path, monkeypatch):
    """Rematerializing one mart (and the publication) from the UI: the staging file starts as a
    copy of the published one, so the mart's upstream tables are there; the other tables are
    published as they were and keep their build times."""
    s, _ = next_night(good, tmp_path, monkeypatch)
    s.export()
    from orchestration.definitions import defs

    with dg.DagsterInstance.from_config(str(s.dagster_home)) as instance:
        before = instance.get_latest_materialization_event(dg.AssetKey(["warehouse", "published"])).asset_materialization.metadata["built_at"].value
        result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey("mart_stage_funnel"), dg.AssetKey(["warehouse", "published"])])
        assert result.success
        after = instance.get_latest_materialization_event(dg.AssetKey(["warehouse", "published"])).asset_materialization.metadata["built_at"].value
    assert after["mart_stage_funnel"] > before["mart_stage_funnel"]
    assert {k: v for k, v in after.items() if k != "mart_stage_funnel"} == {k: v for k, v in before.items() if k != "mart_stage_funnel"}
    assert query(s, "select count(*), round(sum(spend), 2) from fct_ad_spend") == GOOD_SPEND  # copied, not rebuilt
    assert query(s, "select people_reached from mart_stage_funnel where breakdown = 'all' and journey_stage = 'purchase'") == [(2,)]


def order(number: int, email: str = "bob@example.com", total: str = "60.00") -> list[str]:
    return [f"#{number}", email, "paid", "2026-10-21 10:00:00 -0400", "USD", total, "0.00", "0.00", total, "", "web"]


BAD_DAYS = {
    # an NPS answer of 11 passes ingestion (a number) and fails the survey family's suite
    "score out of range": (
        lambda landing: write_export(landing, "typeform_responses", "2026-10-20", [
            ["n9", "bob@example.com", "NPS", "11", "", "Overall", "102", "2026-10-20 09:00:00"]]),
        "lake/touchpoints:survey_expectations", "nps_0_10 scores lie in [0, 10]: 1 rows"),
    # 25 orders, 5 of them repeat an order number with other values: 20% of the file quarantined
    "duplicate ids": (
        lambda landing: write_export(landing, "shopify_orders", "2026-10-21",
                                     [order(100 + i) for i in range(20)] + [order(100 + i, total="1.00") for i in range(5)]),
        "lake/quarantine:ingestion_quarantine",
        "shopify_orders/2026-10-21/export.csv: 5 of 25 rows quarantined (20.0% > 5%), e.g. record key"),
    # an export without its Total column: every row quarantined with the reason, nothing of the file loaded
    "missing required column": (
        lambda landing: write_export(landing, "shopify_orders", "2026-10-21", [order(200)[:8] + order(200)[9:]],
                                     header=[h for h in HEADERS["shopify_orders"] if h != "Total"]),
        "lake/quarantine:ingestion_quarantine",
        "shopify_orders/2026-10-21/export.csv: nothing loaded, all 1 rows quarantined: file lacks column(s) ['Total']"),
}


@pytest.mark.parametrize("case", sorted(BAD_DAYS))
def test_a_bad_day_fails_the_right_check_and_publishes_nothing(case, good, tmp_path, monkeypatch):
    """Each bad export fails one named blocking check with ERROR and a message naming what broke;
    dbt does not run (no mart is rebuilt) and analysts keep the previous good warehouse."""
    from touchline.pipeline import run_pipeline

    land, check, message = BAD_DAYS[case]
    s, sha = next_night(good, tmp_path, monkeypatch)
    land(s.landing)
    outcome = run_pipeline(s)
    assert not outcome.success and not outcome.published
    errors = {c.name: c.description for c in outcome.failed_checks if c.severity == "ERROR"}
    assert list(errors) == [check], errors
    assert message in errors[check], errors[check]
    assert {"fct_touchpoints", "mart_stage_funnel", "warehouse/published"} <= set(outcome.skipped_assets)
    assert not s.staging_warehouse.exists()  # dbt never started
    assert_untouched(s, sha)


def test_a_blocked_file_keeps_blocking_until_it_is_fixed(good, tmp_path, monkeypatch):
    """Incremental ingestion does not read an unchanged file again, so the night after a blocked
    one must not publish that file's loss quietly: it stays blocked until the file is re-delivered."""
    from touchline.pipeline import run_pipeline

    land, check, message = BAD_DAYS["missing required column"]
    s, sha = next_night(good, tmp_path, monkeypatch)
    bad = land(s.landing)
    assert not run_pipeline(s).published
    again = run_pipeline(s)
    assert again.ingest_totals["files"] == 0  # nothing new was read...
    assert [c.name for c in again.blocking_failures] == [check] and message in again.blocking_failures[0].description  # ...and still blocked
    assert_untouched(s, sha)
    write_export(s.landing, "shopify_orders", "2026-10-21", [order(200)])  # the vendor re-delivers it whole
    assert bad.exists()
    fixed = run_pipeline(s)
    assert fixed.success and fixed.published, [c.description for c in fixed.failed_checks]
    assert query(s, "select count(*) from fct_touchpoints where touchpoint_type = 'purchase'") == [(4,)]  # orders 1, 2, 3 and 200


def test_two_runs_started_together_queue_instead_of_failing(good, tmp_path, monkeypatch):
    """`touchline run` twice at once on one warehouse (a person's rerun while the nightly run is
    on): the second waits for the first (run lock), both succeed, their runs do not overlap."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    s, _ = next_night(good, tmp_path, monkeypatch)
    s.export()
    env = dict(os.environ)
    touchline = str(Path(sys.executable).with_name("touchline"))
    procs = [subprocess.Popen([touchline, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert sum("waiting for another Touchline run to finish" in out for out in outputs) == 1, outputs
    with dg.DagsterInstance.from_config(str(s.dagster_home)) as instance:
        runs = sorted(instance.get_run_records(), key=lambda r: r.start_time)[-2:]
        spans = []
        for record in runs:
            steps = instance.all_logs(record.dagster_run.run_id, of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS})
            spans.append((min(e.timestamp for e in steps), max(e.timestamp for e in steps)))
    spans.sort()
    assert spans[0][1] <= spans[1][0], spans  # every step of one run ended before the other's first step started
    assert query(s, "select count(*), round(sum(spend), 2) from fct_ad_spend") == GOOD_SPEND


def test_runs_the_daemon_launches_queue_one_at_a_time(tmp_path):
    """The instance Touchline writes queues daemon-launched runs (schedule, sensor, UI, backfills)
    one at a time; a limit someone set by hand in dagster.yaml is kept."""
    from touchline.settings import write_instance_config

    write_instance_config(tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 1
    (tmp_path / "dagster.yaml").write_text("concurrency:\n  runs:\n    max_concurrent_runs: 3\n")
    write_instance_config(tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 3
    assert "telemetry" in (tmp_path / "dagster.yaml").read_text()
