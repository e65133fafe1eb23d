"""The whole pipeline (Dagster -> Polars -> checks -> dbt on DuckDB) on landing zones small enough
to compute every expected number by hand. See the comments for the arithmetic."""

import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from tests.helpers import SALT, person_key, run_dbt, write_export
from touchline import settings as settings_module

ALICE, BOB, DAN = (person_key(e) for e in ("alice@example.com", "bob@example.com", "dan@example.com"))
CAROL = __import__("hashlib").sha256(f"{SALT}|anon|vc".encode()).hexdigest()[:32]


def tiny_landing(root: Path) -> None:
    """Four people. Alice: paid search click (a /sale page: deal seeking) -> lead -> buys twice -> NPS 10 -> refers Dan.
    Bob: organic lead who opens a newsletter. Carol: one paid social click. Dan: referred by
    Alice, becomes a lead and buys once. Identity links: Alice's click is anonymous but HubSpot
    captured its gclid; Dan's CSAT answer carries only his HubSpot contact id. Plus: a re-delivered Shopify file, an exact duplicate
    Mailchimp row, a Shopify line cut in half, and one spend row per ad platform."""
    w = write_export
    # Alice's click is anonymous (visitor va); the HubSpot form captured its gclid G1 two hours later
    w(root, "ad_clicks", "2026-10-01", [["a1", "2026-10-01T10:00:00.000Z", "va", "",
      "https://shop.example.com/sale?utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&utm_id=111&gclid=G1", ""]])
    w(root, "ad_clicks", "2026-10-04", [["a2", "2026-10-04T10:00:00.000Z", "vc", "",
      "https://shop.example.com/?utm_source=facebook&utm_medium=paid_social&utm_campaign=brand_video&fbclid=F1", ""]])
    # HubSpot Create Date is New York time (EDT = UTC-4)
    w(root, "hubspot_contacts", "2026-10-01", [["101", "Alice", "A", "alice@example.com", "evangelist", "Paid Search", "google", "2026-10-01 08:00", "REFA", "", "G1", ""]])
    w(root, "hubspot_contacts", "2026-10-02", [["102", "Bob", "B", "bob@example.com", "lead", "Organic Search", "", "2026-10-02 09:00", "REFB", "", "", ""]])
    w(root, "hubspot_contacts", "2026-10-12", [["103", "Dan", "D", " DAN@example.com ", "customer", "Referrals", "", "2026-10-12 10:00", "REFD", "REFA", "", ""]])
    order1 = [["#1", "alice@example.com", "paid", "2026-10-03 10:00:00 -0400", "USD", "90.00", "0.00", "10.00", "100.00", "", "web"]]
    w(root, "shopify_orders", "2026-10-03", order1)
    w(root, "shopify_orders", "2026-10-03", order1, name="export_1.csv")  # re-delivered
    w(root, "shopify_orders", "2026-10-15", [["#2", "dan@example.com", "paid", "2026-10-15 10:00:00 -0400", "USD", "70.00", "0.00", "10.00", "80.00", "FRIEND15", "web"],
                                             ["#9", "x@example.com"]])  # cut mid-line
    w(root, "shopify_orders", "2026-10-20", [["#3", "alice@example.com", "paid", "2026-10-20 10:00:00 -0400", "USD", "45.00", "0.00", "5.00", "50.00", "", "web"]])
    bob_open = ["bob@example.com", "Bob", "B", "Weekly Newsletter", "c2", "open", "2026-10-05 10:00:00", ""]
    w(root, "mailchimp_activity", "2026-10-05", [bob_open, bob_open])
    w(root, "typeform_responses", "2026-10-10", [["n1", "alice@example.com", "NPS", "10", "", "Overall", "101", "2026-10-10 09:00:00"]])
    # Dan rates his delivery through a link that carried only his HubSpot contact id
    w(root, "typeform_responses", "2026-10-16", [["c1", "", "CSAT", "4", "", "Delivery", "103", "2026-10-16 10:00:00"]])
    w(root, "referral_events", "2026-10-11", [["sh-1", "share", "2026-10-11 09:00:00", "alice@example.com", "", "REFA", "Give 15", "", ""]])
    w(root, "referral_events", "2026-10-12", [["fr-1", "friend_signup", "2026-10-12 12:00:00", "dan@example.com", "alice@example.com", "REFA", "Give 15", "", ""]])
    w(root, "referral_events", "2026-10-15", [["re-1", "reward_issued", "2026-10-15 15:00:00", "alice@example.com", "", "REFA", "Give 15", "10.00", "USD"]])
    w(root, "google_ads_campaign_day", "2026-10-01", [["2026-10-01", "111", "Spring Sale - Search", "USD", "1,000", "10", "12.50"]],
      preamble="Campaign performance report\nOctober 1, 2026 - October 1, 2026\n")
    w(root, "meta_ads_campaign_day", "2026-10-04", [["2026-10-04", "2026-10-04", "Brand Video Awareness", "222", "500", "3", "4.20"]])


def use_dirs(monkeypatch, data: Path) -> settings_module.Settings:
    monkeypatch.setenv("TOUCHLINE_DATA", str(data))
    monkeypatch.setenv("TOUCHLINE_LANDING", str(data / "landing"))
    monkeypatch.setenv("TOUCHLINE_SALT", SALT)
    for name in ("TOUCHLINE_LAKE", "TOUCHLINE_WAREHOUSE", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    return settings_module.load()


def query(settings, sql):
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def dbt_on_a_copy(s, tmp_path: Path, *args: str) -> Path:
    """Run a dbt command against a copy of the built warehouse (target files under tmp_path)."""
    target = tmp_path / "wh.duckdb"
    shutil.copyfile(s.warehouse, target)
    run_dbt(tmp_path, {**s.dbt_env(), settings_module.DBT_WAREHOUSE_ENV: str(target)}, *args)
    return target


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from touchline.pipeline import run_pipeline

    data = tmp_path_factory.mktemp("tiny")
    tiny_landing(data / "landing")
    with pytest.MonkeyPatch.context() as mp:
        s = use_dirs(mp, data)
        mp.setenv("TOUCHLINE_RUN_DATE", "2026-10-21")  # the day after the last landing day; freshness is judged on it
        outcome = run_pipeline(s)
    return s, outcome


def test_tiny_run_succeeds_with_every_row_accounted_for(tiny_run):
    s, outcome = tiny_run
    assert outcome.success, outcome.failed_checks
    assert not outcome.skipped_assets and outcome.published
    # the only failed check is the freshness warning: on 2026-10-21 only Shopify delivered within 2 days
    [freshness] = outcome.failed_checks
    assert (freshness.name, freshness.severity) == ("lake/load_log:landing_freshness", "WARN")
    assert freshness.description.startswith("7 of 8 sources stale") and "shopify_orders" not in freshness.description
    # 19 rows read = 17 loaded (15 touchpoints + 2 spend rows) + 1 quarantined + 1 exact duplicate
    totals = {k: outcome.ingest_totals[k] for k in ("rows_read", "rows_loaded", "rows_quarantined", "duplicates_dropped")}
    assert totals == {"rows_read": 19, "rows_loaded": 17, "rows_quarantined": 1, "duplicates_dropped": 1}
    # the re-delivered order adds nothing: 15 - 1 = 14 touchpoints
    assert outcome.mart_rows["fct_touchpoints"] == 14
    assert outcome.mart_rows["dim_people"] == 4
    assert outcome.mart_rows["fct_ad_spend"] == 2
    assert query(s, "select round(sum(spend), 2) from fct_ad_spend") == [(16.70,)]
    # in USD: 12.50 USD + 4.20 EUR x 1.12 (seeds/currency_rates.csv, from 2026-07-01) = 17.204
    assert query(s, "select round(sum(spend_reporting), 3) from fct_ad_spend") == [(17.204,)]
    assert query(s, "select source_file, source_line, reason from quarantine") == [
        ("shopify_orders/2026-10-15/export.csv", 3, "malformed record: 2 fields, header has 11 (too few fields)")]
    # the reconciliation is in the warehouse too, one row per file (17 files landed)
    assert query(s, "select count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined), sum(duplicates_dropped), "
                    "bool_and(is_balanced) from load_log") == [(17, 19, 17, 1, 1, True)]


def test_tiny_run_people(tiny_run):
    s, _ = tiny_run
    rows = query(s, """
        select person_key, acquisition_channel, first_touch_need, first_lead_at, first_purchase_at, purchases,
               lifetime_revenue, lifetime_revenue_currency, latest_nps, people_referred, referrer_person_key, lifecycle_state
        from dim_people""")
    people = {r[0]: r[1:] for r in rows}
    assert people[ALICE] == ("paid_search", "deal_seeking", datetime(2026, 10, 1, 12), datetime(2026, 10, 3, 14), 2, 150.0, "USD", 10.0, 1, None, "fan")
    assert people[BOB] == ("organic_search", None, datetime(2026, 10, 2, 13), None, 0, 0.0, None, None, 0, None, "lead")
    assert people[CAROL] == ("paid_social", "information", None, None, 0, 0.0, None, None, 0, None, "visitor")
    assert people[DAN] == ("referral", "belonging", datetime(2026, 10, 12, 14), datetime(2026, 10, 15, 14), 1, 80.0, "USD", None, 0, ALICE, "customer")


def test_tiny_run_funnel(tiny_run):
    s, _ = tiny_run
    rows = query(s, """
        select journey_stage, people_entered, people_reached, drop_off, round(conversion_from_previous, 4),
               round(conversion_from_entry, 4), median_hours_from_entry
        from mart_stage_funnel
        where breakdown = 'all' and entry_period = '2026-10-01'
        order by stage_order""")
    # entry: Alice 10-01 10:00, Bob 10-02 13:00, Carol 10-04 10:00, Dan 10-12 12:00 (all UTC)
    # consideration: Alice +2h (lead), Bob +0h (entered as a lead), Dan +2h (lead)       -> median 2
    # purchase: Alice +52h (10-03 14:00), Dan +74h (10-15 14:00)                          -> median 63
    # retention: Dan's CSAT 10-16 10:00 = +94h; Alice's NPS answer 10-10 09:00 = +215h       -> median 154.5
    # advocacy: Alice's invite 10-11 09:00 = +239h
    assert rows == [
        ("awareness", 4, 4, 0, 1.0, 1.0, 0.0),
        ("consideration", 4, 3, 1, 0.75, 0.75, 2.0),
        ("purchase", 4, 2, 1, 0.6667, 0.5, 63.0),
        ("retention", 4, 2, 0, 1.0, 0.5, 154.5),
        ("advocacy", 4, 1, 1, 0.5, 0.25, 239.0),
    ]
    by_channel = query(s, """
        select breakdown_value, list(people_reached order by stage_order)
        from mart_stage_funnel where breakdown = 'channel' group by 1 order by 1""")
    assert by_channel == [("organic_search", [1, 1, 0, 0, 0]), ("paid_search", [1, 1, 1, 1, 1]),
                          ("paid_social", [1, 0, 0, 0, 0]), ("referral", [1, 1, 1, 1, 0])]


def test_tiny_run_attribution(tiny_run):
    s, _ = tiny_run
    # Conversions: Alice 10-03 (100, first) and 10-20 (50, repeat), Dan 10-15 (80, first). Alice's
    # eligible touchpoints (30-day lookback) are her click (campaign 111 via utm_id) and her HubSpot
    # lead, both paid_search: one exposure step of two touchpoints, 0.5 each under every model. Dan:
    # his referral sign-up and his lead, both referral. Survey answers and invites earn nothing.
    credits = query(s, """
        select attribution_model, count(distinct conversion_id), sum(credit), list(distinct channel order by channel),
               min(credit), max(credit)
        from mart_channel_attribution group by 1 order by 1""")
    assert len(credits) == 8
    assert [c[1:] for c in credits] == [(3, 3.0, ["paid_search", "referral"], 0.5, 0.5)] * 8
    # Markov, October: paths paid_search (2 conversions), referral (1), organic_search (Bob, open),
    # paid_social (Carol, open). P(conv) = 3/5; without paid_search 1/5 -> effect 2/3; without
    # referral 2/5 -> 1/3; the others 0. Shares 2/3 and 1/3 of 3 conversions.
    markov = query(s, "select channel, round(removal_effect, 6), round(attributed_conversions, 6) from mart_attribution_markov order by 1")
    assert markov == [("organic_search", 0.0, 0.0), ("paid_search", 0.666667, 2.0), ("paid_social", 0.0, 0.0), ("referral", 0.333333, 1.0)]
    # Performance (linear, October). paid_search: 2 conversions (1 first), 150 revenue, spend 12.50:
    # ROAS 12, CPA 6.25, CAC 12.5. Campaign 111 holds the click's half: 1 conversion, 0.5 first, 75:
    # ROAS 6, CPA 12.5, CAC 25. paid_social spent 4.704 (4.20 EUR) for nothing; referral spent nothing.
    performance = query(s, """
        select breakdown, channel, campaign_id, attributed_conversions, attributed_first_conversions,
               attributed_revenue_reporting, round(spend_reporting, 3), roas, cost_per_conversion, customer_acquisition_cost
        from mart_channel_performance where attribution_model = 'linear' order by breakdown desc, channel, campaign_id""")
    assert performance == [
        ("channel", "paid_search", None, 2.0, 1.0, 150.0, 12.5, 12.0, 6.25, 12.5),
        ("channel", "paid_social", None, 0.0, 0.0, 0.0, 4.704, 0.0, None, None),
        ("channel", "referral", None, 1.0, 1.0, 80.0, 0.0, None, None, None),
        ("campaign", "paid_search", "(none)", 1.0, 0.5, 75.0, 0.0, None, None, None),
        ("campaign", "paid_search", "111", 1.0, 0.5, 75.0, 12.5, 6.0, 12.5, 25.0),
        ("campaign", "paid_social", "222", 0.0, 0.0, 0.0, 4.704, 0.0, None, None),
        ("campaign", "referral", "(none)", 1.0, 1.0, 80.0, 0.0, None, None, None),
    ]


def test_window_excludes_late_stages(tiny_run, tmp_path, monkeypatch):
    """With a 3-day conversion window only Alice's purchase (+52h) still counts; Dan's is +74h."""
    s, _ = tiny_run
    # int_funnel_person_stages is incremental (per person): another var needs --full-refresh, as
    # for any incremental dbt model (the pipeline rebuilds whole when dbt_project.yml changes)
    target = dbt_on_a_copy(s, tmp_path, "run", "--select", "int_funnel_person_stages", "mart_stage_funnel",
                           "--vars", "{funnel_conversion_window_days: 3}", "--full-refresh")
    with duckdb.connect(str(target), read_only=True) as con:
        reached = con.execute("select list(people_reached order by stage_order) from mart_stage_funnel where breakdown = 'all'").fetchall()
    assert reached == [([4, 3, 1, 0, 0],)]  # retention: Alice +215h and Dan +94h are both past 72h


def snapshot(settings) -> dict[str, list[tuple]]:
    """Every table analysts read, all rows in a fixed order."""
    from touchline.analyst import mart_row_counts

    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return {name: con.execute(f'select * from "{name}" order by all').fetchall() for name in mart_row_counts(settings)}


def test_a_night_without_new_files_ingests_nothing_and_publishes_the_same_marts(tiny_run, tmp_path, monkeypatch):
    """The whole pipeline again on a copy of the tiny run's data: all 17 files are skipped as
    unchanged, the checks run on the lake as before, and every table is identical, row for row."""
    from touchline.pipeline import run_pipeline

    first, first_outcome = tiny_run
    data = tmp_path / "next"
    shutil.copytree(first.data_dir, data)
    s = use_dirs(monkeypatch, data)
    monkeypatch.setenv("TOUCHLINE_RUN_DATE", "2026-10-21")
    outcome = run_pipeline(s)
    assert outcome.success and outcome.published, outcome.failed_checks
    t = outcome.ingest_totals
    assert (t["files"], t["files_skipped"], t["rows_read"], t["files_missing"]) == (0, 17, 0, 0)
    assert snapshot(s) == snapshot(first)  # load_log included: a night that read nothing adds no row
    assert sorted((c.name, c.passed) for c in outcome.checks) == sorted((c.name, c.passed) for c in first_outcome.checks)


def test_blocking_check_failure_stops_the_marts_and_names_the_check(tiny_run, tmp_path, monkeypatch):
    """A spend row with negative cost fails the ad spend suite: dbt does not run, the CLI exits 1
    naming the check, and the warehouse keeps the previous good build."""
    from typer.testing import CliRunner

    from touchline.cli import app

    good, _ = tiny_run
    data = tmp_path / "bad"
    shutil.copytree(good.data_dir, data)
    write_export(data / "landing", "google_ads_campaign_day", "2026-10-02",
                 [["2026-10-02", "111", "Spring Sale - Search", "USD", "900", "9", "-5.00"]],
                 preamble="Campaign performance report\nOctober 2, 2026 - October 2, 2026\n")
    s = use_dirs(monkeypatch, data)
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 1, result.output
    assert "FAILED lake/ad_spend:ad_spend_expectations (ERROR)" in " ".join(result.output.split())
    assert "expect_column_values_to_be_between on spend: 1 rows" in " ".join(result.output.split())
    assert query(s, "select count(*), round(sum(spend), 2) from fct_ad_spend") == [(2, 16.70)]  # yesterday's build


def test_demo_landing_zone_end_to_end(tmp_path, monkeypatch):
    """A generated landing zone goes through with every check green and consistent counts."""
    from touchline.demo.generator import generate
    from touchline.pipeline import run_pipeline

    generate(tmp_path / "landing", people=60, days=20, seed=11, end=date(2026, 10, 31))
    s = use_dirs(monkeypatch, tmp_path)
    # judged the morning after the last day; the small demo's sparsest source (referrals) last
    # delivered 5 days before, so freshness allows a week here: a good day passes every check
    monkeypatch.setenv("TOUCHLINE_RUN_DATE", "2026-11-01")
    monkeypatch.setenv("TOUCHLINE_FRESHNESS_MAX_AGE_DAYS", "7")
    outcome = run_pipeline(s)
    assert outcome.success and outcome.failed_checks == [], [c.description for c in outcome.failed_checks]
    assert len(outcome.checks) > 150  # GX suites, lake checks, mart rules and every dbt test, all passed
    t = outcome.ingest_totals
    assert t["rows_read"] == t["rows_loaded"] + t["rows_quarantined"] + t["duplicates_dropped"]
    assert t["rows_quarantined"] >= 1 and t["duplicates_dropped"] >= 1
    with duckdb.connect() as con:  # people = distinct ingested keys after identity resolution
        distinct = con.execute(f"""
            select count(distinct t.touchpoint_id), count(distinct coalesce(m.person_key, t.person_key))
            from read_parquet('{s.lake}/touchpoints/**/*.parquet') as t
            left join read_parquet('{s.lake}/identity_map/*.parquet') as m on t.person_key = m.alias_key""").fetchone()
        ingested_keys = con.execute(f"select count(distinct person_key) from read_parquet('{s.lake}/touchpoints/**/*.parquet')").fetchone()[0]
    assert distinct[1] < ingested_keys  # anonymous clicks and contact-id answers joined their people
    assert (outcome.mart_rows["fct_touchpoints"], outcome.mart_rows["dim_people"]) == distinct
    funnel = query(s, "select sum(people_reached) filter (where stage_order = 1), sum(people_entered) filter (where stage_order = 1) "
                      "from mart_stage_funnel where breakdown = 'all'")
    assert funnel == [(distinct[1], distinct[1])]
    attribution_matches_channelattribution(s)


def attribution_matches_channelattribution(s):
    """Our first/last/linear credits and Markov results equal ChannelAttribution's on the demo's
    own path table (mart_attribution_paths)."""
    import pytest

    from tests.marts.attribution_reference import reference

    rows = query(s, "select period_start, path_channels, conversions, non_conversions from mart_attribution_paths where step_count > 0")
    assert sum(r[2] for r in rows) >= 5  # the demo converts people through several channels
    everything: dict[tuple, list[int]] = {}
    for _, channels, conv, null in rows:
        totals = everything.setdefault(tuple(channels), [0, 0])
        totals[0] += conv
        totals[1] += null
    heuristic, _ = reference([(list(p), c, n) for p, (c, n) in everything.items()])
    ours = query(s, """select attribution_model, channel, sum(credit) from mart_channel_attribution
                       where attribution_model in ('first_touch', 'last_touch', 'linear') and channel != 'unattributed'
                       group by all""")
    names = {"first_touch": "first_touch", "last_touch": "last_touch", "linear": "linear_touch"}
    for model, channel, credit in ours:
        assert credit == pytest.approx(heuristic.loc[channel, names[model]], abs=1e-9), (model, channel)
    assert len(ours) == int((heuristic[list(names.values())] > 0).to_numpy().sum())  # we keep no zero-credit rows
    for period in sorted({r[0] for r in rows}):
        paths = [(list(r[1]), r[2], r[3]) for r in rows if r[0] == period]
        if not any(c for _, c, _ in paths):
            continue
        _, chain = reference(paths, max_step=100)
        markov = query(s, f"select channel, removal_effect, attributed_conversions from mart_attribution_markov where period_start = '{period}'")
        conversions = sum(c for _, c, _ in paths)
        for channel, effect, attributed in markov:
            assert effect == pytest.approx(chain.loc[channel, "removal_effect"], abs=0.01), (period, channel)
            assert attributed == pytest.approx(chain.loc[channel, "total_conversions"], abs=0.02 * conversions), (period, channel)


def test_no_raw_email_anywhere_in_the_warehouse(tiny_run):
    """Every text column of every table, except the quarantine's raw record, is free of emails."""
    s, _ = tiny_run
    columns = query(s, """
        select table_schema, table_name, column_name from information_schema.columns
        where data_type in ('VARCHAR', 'JSON') and not (table_name = 'quarantine' and column_name = 'raw_record')
          and not (table_name = 'stg_lake__quarantine' and column_name = 'raw_record')""")
    assert len(columns) > 50
    hits = []
    for schema_name, table, column in columns:
        found = query(s, f"""select count(*) from "{schema_name}"."{table}"
                             where regexp_matches("{column}", '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]+')""")
        if found[0][0]:
            hits.append(f"{table}.{column}")
    assert hits == []


def test_dbt_docs_build_and_every_mart_column_is_described(tiny_run, tmp_path):
    """`dbt docs generate` works offline, and every column analysts see carries a description."""
    import json

    s, _ = tiny_run
    dbt_on_a_copy(s, tmp_path, "docs", "generate")
    assert (tmp_path / "target" / "index.html").exists()
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    undocumented = []
    for node_id, node in catalog["nodes"].items():
        if not node["metadata"]["name"].startswith(("fct_", "dim_", "mart_")) and node["metadata"]["name"] not in ("load_log", "quarantine"):
            continue
        described = {c: v["description"] for c, v in manifest["nodes"][node_id]["columns"].items() if v.get("description")}
        assert manifest["nodes"][node_id]["description"], f"{node_id} has no description"
        undocumented += [f"{node['metadata']['name']}.{c}" for c in node["columns"] if c not in described]
    assert undocumented == []


def test_report_sensor_writes_the_report_after_a_scheduled_run(tiny_run, monkeypatch):
    """Runs started by the schedule or the UI get their report from a run-status sensor: given the
    finished tiny run, it rewrites report.html with that run's checks from the event log."""
    import dagster as dg

    from orchestration.report import report_after_success

    s, outcome = tiny_run
    use_dirs(monkeypatch, s.data_dir)
    monkeypatch.setenv("TOUCHLINE_RUN_DATE", "2026-10-21")
    report = s.warehouse.parent / "report.html"
    report.unlink()
    with dg.DagsterInstance.from_config(str(s.dagster_home)) as instance:
        run = instance.get_run_by_id(outcome.run_id)
        success = instance.all_logs(outcome.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS)[0].dagster_event
        context = dg.build_run_status_sensor_context(sensor_name="report_after_success", dagster_event=success,
                                                     dagster_instance=instance, dagster_run=run)
        report_after_success(context)
    html = " ".join(report.read_text().split())
    assert f"Dagster run {outcome.run_id}" in html
    failed = [c.name for c in outcome.failed_checks]  # the freshness warning of the tiny zone's quiet sources
    assert failed and all(name in html for name in failed)
    assert f"{len(outcome.checks) - len(failed)} passed, {len(failed)} failed." in html
