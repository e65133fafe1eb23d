"""Volume band and freshness checks (orchestration/checks.py) on landing zones ingested for real
(ingestion.run.ingest writes the load_log they read); the checks are invoked as Dagster checks."""

from datetime import date, timedelta

import dagster as dg
import pytest

from expectations.landing_health import MIN_HISTORY_DAYS, volume_verdicts
from ingestion.contracts import load_contracts
from ingestion.run import ingest
from orchestration.checks import landing_freshness, landing_volume
from orchestration.resources import TouchlineResource
from tests.helpers import SALT, write_export
from touchline import settings as settings_module

CONTRACTS = load_contracts()
FIRST = date(2026, 10, 1)


def mailchimp_day(root, day: date, rows: int) -> None:
    """`rows` distinct Mailchimp opens on `day` (distinct people: none is an exact duplicate)."""
    write_export(root, "mailchimp_activity", day.isoformat(), [
        [f"p{i}@example.com", "P", str(i), "Weekly Newsletter", "c2", "open", f"{day} 10:00:00", ""] for i in range(rows)])


def spend_day(root, day: date) -> None:
    write_export(root, "meta_ads_campaign_day", day.isoformat(), [[day.isoformat(), day.isoformat(), "Brand", "222", "500", "3", "4.20"]])


def lake_of(tmp_path, monkeypatch, mailchimp_rows: list[int], *, spend_days: int = 0, run_date: date | None = None,
            env: dict[str, str] | None = None):
    """Ingest a landing zone with one Mailchimp day per entry of `mailchimp_rows` (from FIRST on) and,
    optionally, `spend_days` Meta spend days; point the settings at it."""
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    for offset, rows in enumerate(mailchimp_rows):
        mailchimp_day(landing, FIRST + timedelta(days=offset), rows)
    for offset in range(spend_days):
        spend_day(landing, FIRST + timedelta(days=offset))
    ingest(landing, lake, CONTRACTS, salt=SALT).write(lake)
    monkeypatch.setenv("TOUCHLINE_DATA", str(tmp_path))
    for name in ("TOUCHLINE_LAKE", "TOUCHLINE_WAREHOUSE", "TOUCHLINE_LANDING", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TOUCHLINE_RUN_DATE", (run_date or FIRST + timedelta(days=len(mailchimp_rows))).isoformat())
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    return lake


def test_a_day_at_5_percent_of_the_usual_volume_fails_the_volume_check(tmp_path, monkeypatch):
    # 8 days of 40 opens, then 2: the trailing 7 landing days average 40, so 2 rows are 5 %
    lake_of(tmp_path, monkeypatch, [40] * 8 + [2], spend_days=9)
    result = landing_volume(touchline=TouchlineResource())
    assert isinstance(result, dg.AssetCheckResult)
    assert result.passed is False
    assert result.severity == dg.AssetCheckSeverity.ERROR
    assert result.description == ("volume collapsed (below 20% of the trailing average): mailchimp_activity 2026-10-09: "
                                  "2 rows loaded, 5.0% of the average of the 7 landing days before (40.0)")
    meta = {k: v.value if hasattr(v, "value") else v for k, v in result.metadata.items()}
    assert (meta["source"], meta["day"], meta["rows"], meta["trailing_average"], meta["percent"]) == (
        "mailchimp_activity", "2026-10-09", 2, 40.0, 5.0)
    # Meta's one row a day is too small to judge; it is listed, not failed
    sources = {row["source"]: row for row in meta["sources"]}
    assert sources["meta_ads_campaign_day"]["status"] == "not judged"
    assert [row["source"] for row in meta["collapsed"]] == ["mailchimp_activity"]


def test_normal_days_pass_the_volume_check(tmp_path, monkeypatch):
    # ordinary variation, a quiet last day at 25 % of the average included
    lake_of(tmp_path, monkeypatch, [40, 55, 30, 42, 38, 61, 35, 40, 11])
    result = landing_volume(touchline=TouchlineResource())
    assert result.passed is True and result.severity == dg.AssetCheckSeverity.ERROR
    assert result.description == "1 of 1 sources judged, none below 20% of its trailing 7-landing-day average"
    [row] = result.metadata["sources"].value
    assert (row["rows"], row["trailing_days"], row["status"]) == (11, 7, "ok")
    assert row["percent"] == pytest.approx(100 * 11 / ((55 + 30 + 42 + 38 + 61 + 35 + 40) / 7), abs=0.01)


def test_volume_thresholds_come_from_the_settings(tmp_path, monkeypatch):
    # the same 25 % day fails at a 30 % band over the last 3 landing days (average 45.33)
    lake_of(tmp_path, monkeypatch, [40, 55, 30, 42, 38, 61, 35, 40, 11],
            env={"TOUCHLINE_VOLUME_MIN_PERCENT": "30", "TOUCHLINE_VOLUME_TRAILING_DAYS": "3"})
    result = landing_volume(touchline=TouchlineResource())
    assert result.passed is False
    assert "mailchimp_activity 2026-10-09: 11 rows loaded, 24.3% of the average of the 3 landing days before (45.3)" in result.description


def test_a_new_or_small_source_is_not_judged(tmp_path, monkeypatch):
    lake = lake_of(tmp_path, monkeypatch, [40] * MIN_HISTORY_DAYS + [1])
    [enough] = volume_verdicts(lake, trailing_days=7, min_percent=20, min_rows=20)
    assert enough.status == "collapsed"  # three earlier days are enough history
    lake = lake_of(tmp_path / "new", monkeypatch, [40] * (MIN_HISTORY_DAYS - 1) + [1])
    [young] = volume_verdicts(lake, trailing_days=7, min_percent=20, min_rows=20)
    assert (young.status, young.reason) == ("not judged", "only 2 earlier landing days (needs 3)")
    lake = lake_of(tmp_path / "small", monkeypatch, [10] * 8 + [1])
    [small] = volume_verdicts(lake, trailing_days=7, min_percent=20, min_rows=20)
    assert (small.status, small.reason) == ("not judged", "averages 10.0 rows a day, fewer than 20")


def test_a_night_that_reads_only_its_new_day_is_judged_against_the_days_ingested_before(tmp_path, monkeypatch):
    """Incremental ingestion reads only the new files; the checks judge what the lake holds (the
    ingest state): the thin ninth day against the eight read on an earlier night, and a source that
    delivered nothing tonight is still listed by the freshness check."""
    lake = lake_of(tmp_path, monkeypatch, [40] * 8, spend_days=3)
    mailchimp_day(tmp_path / "landing", FIRST + timedelta(days=8), 2)
    report = ingest(tmp_path / "landing", lake, CONTRACTS, salt=SALT)
    report.write(lake)
    assert (report.totals()["files"], report.totals()["files_skipped"]) == (1, 11)
    result = landing_volume(touchline=TouchlineResource())
    assert result.passed is False
    assert result.description == ("volume collapsed (below 20% of the trailing average): mailchimp_activity 2026-10-09: "
                                  "2 rows loaded, 5.0% of the average of the 7 landing days before (40.0)")
    stale = landing_freshness(touchline=TouchlineResource()).metadata["stale_sources"].value
    assert stale == ["meta_ads_campaign_day"]  # newest day 10-03, run date 10-09


def test_a_re_delivered_day_counts_its_files_and_a_later_ingestion_replaces_the_old(tmp_path, monkeypatch):
    """The lake's current files count: a fixed re-export of the thin day clears the failure."""
    lake = lake_of(tmp_path, monkeypatch, [40] * 8 + [2])
    assert landing_volume(touchline=TouchlineResource()).passed is False
    mailchimp_day(tmp_path / "landing", FIRST + timedelta(days=8), 39)  # the vendor re-exports the whole day
    ingest(tmp_path / "landing", lake, CONTRACTS, salt=SALT).write(lake)
    result = landing_volume(touchline=TouchlineResource())
    assert result.passed is True, result.description


def test_a_stale_source_warns_and_names_it(tmp_path, monkeypatch):
    # Mailchimp delivered through 10-09, Meta only through 10-03; the run is on 10-10 (max age 2 days)
    lake_of(tmp_path, monkeypatch, [40] * 9, spend_days=3, run_date=date(2026, 10, 10))
    result = landing_freshness(touchline=TouchlineResource())
    assert result.passed is False
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.description == ("1 of 2 sources stale (newest landing day more than 2 days before 2026-10-10): "
                                  "meta_ads_campaign_day (newest landing day 2026-10-03, 7 days old)")
    assert result.metadata["stale_sources"].value == ["meta_ads_campaign_day"]
    assert result.metadata["run_date"].value == "2026-10-10"


def test_fresh_sources_pass_and_max_age_is_a_setting(tmp_path, monkeypatch):
    lake_of(tmp_path, monkeypatch, [40] * 9, spend_days=7, run_date=date(2026, 10, 10))
    assert landing_freshness(touchline=TouchlineResource()).passed is False  # Meta's 10-07 is 3 days old
    monkeypatch.setenv("TOUCHLINE_FRESHNESS_MAX_AGE_DAYS", "3")
    result = landing_freshness(touchline=TouchlineResource())
    assert result.passed is True
    assert result.description == "all 2 sources delivered within 3 days of 2026-10-10"


def test_an_empty_landing_zone_warns(tmp_path, monkeypatch):
    lake_of(tmp_path, monkeypatch, [])
    result = landing_freshness(touchline=TouchlineResource())
    assert result.passed is False and result.description.startswith("nothing has landed")
    assert landing_volume(touchline=TouchlineResource()).passed is True  # nothing to compare


@pytest.mark.parametrize(("name", "value", "message"), [
    ("TOUCHLINE_VOLUME_MIN_PERCENT", "twenty", "TOUCHLINE_VOLUME_MIN_PERCENT='twenty' is not a number"),
    ("TOUCHLINE_VOLUME_TRAILING_DAYS", "0", "TOUCHLINE_VOLUME_TRAILING_DAYS='0' must be at least 1"),
    ("TOUCHLINE_FRESHNESS_MAX_AGE_DAYS", "1.5", "TOUCHLINE_FRESHNESS_MAX_AGE_DAYS='1.5' is not a whole number"),
    ("TOUCHLINE_RUN_DATE", "21/10/2026", "TOUCHLINE_RUN_DATE='21/10/2026' is not a YYYY-MM-DD date"),
])
def test_bad_threshold_settings_are_named(name, value, message):
    with pytest.raises(settings_module.SettingsError, match="^" + message.replace(".", r"\.") + "$"):
        settings_module.load({name: value})


def test_the_cli_names_a_bad_setting_instead_of_a_traceback(monkeypatch):
    from typer.testing import CliRunner

    from touchline.cli import app

    monkeypatch.setenv("TOUCHLINE_VOLUME_MIN_PERCENT", "twenty")
    result = CliRunner().invoke(app, ["query", "select 1"])
    assert result.exit_code == 2
    assert "TOUCHLINE_VOLUME_MIN_PERCENT='twenty' is not a number" in result.output and "Traceback" not in result.output
