"""Incremental dbt builds (models/incremental/) give exactly the tables of a full rebuild.

Each test lands a few nights on the tiny landing zone of tests/test_pipeline_end_to_end.py,
ingests them (ingestion.run.ingest + identity resolution, as the Dagster steps do) and after each
night builds dbt twice over the same lake: incrementally (`--vars` window, into a copy of the
previous night's warehouse, as orchestration does with prepare_staging(from_published=True)) and
whole (`--full-refresh` into an empty file). Every table of the main schema must be equal, every
column included: both builds read the same lake, so even ingested_at and batch_id agree. Plus a
few values computed by hand.

The builds select the incremental models and what they read (`+inc_lake_files +load_log`): the marts are tables rebuilt from these every night, whatever the build,
so they cannot differ when their inputs do not (tests/test_faults_end_to_end.py compares every
table of whole pipeline runs).
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from ingestion.contracts import load_contracts
from ingestion.run import ingest, resolve_identities
from tests.helpers import SALT, person_key, run_dbt, write_export
from tests.test_faults_end_to_end import published_relations
from tests.test_pipeline_end_to_end import ALICE, BOB, CAROL, tiny_landing
from touchline.settings import DBT_WAREHOUSE_ENV

SELECT = ["+inc_lake_files", "+load_log"]  # the incremental models, what they read, and the ledger built after them
CAROL_EMAIL = person_key("carol@example.com")


def order(name: str, email: str, day: str, total: str) -> list[str]:
    """A paid Shopify order at 10:00 New York time (EDT, UTC-4) of `day`, in USD."""
    return [name, email, "paid", f"{day} 10:00:00 -0400", "USD", total, "0.00", "0.00", total, "", "web"]


@dataclass
class Night:
    """One night's lake and the two warehouses built over it."""

    incremental: Path
    full: Path
    log: str  # dbt's output of the incremental build

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.incremental), read_only=True) as con:
            return con.execute(sql).fetchall()


class Zone:
    """A landing zone, its lake and the warehouse of the latest incremental build."""

    def __init__(self, root: Path):
        self.root = root
        self.landing, self.lake, self.builds = root / "landing", root / "lake", root / "builds"
        self.builds.mkdir(parents=True)
        self.contracts = load_contracts()
        self.nights = 0
        self.warehouse: Path | None = None  # the previous night's incremental build ("published")

    def ingest(self, *, full_refresh: bool = False) -> None:
        """One ingestion run (the files not yet in the lake as they are now) and identity resolution."""
        self.nights += 1
        report = ingest(self.landing, self.lake, self.contracts, salt=SALT, batch_id=f"night-{self.nights:02d}",
                        full_refresh=full_refresh)
        report.write(self.lake)
        resolve_identities(self.lake)

    def build(self, window: tuple[str | None, str | None] = (None, None)) -> Night:
        """dbt incrementally into a copy of the previous build, and whole into an empty file."""
        name = f"night-{self.nights:02d}"
        incremental = self.builds / name / "touchline.duckdb"
        incremental.parent.mkdir()
        if self.warehouse is not None:
            shutil.copyfile(self.warehouse, incremental)
        variables = json.dumps({"window_start": window[0], "window_end": window[1]})
        log = self.dbt(incremental, "--vars", variables)
        full = self.builds / f"{name}-full" / "touchline.duckdb"
        full.parent.mkdir()
        self.dbt(full, "--full-refresh", "--vars", variables)  # the same vars: dbt's partial parsing still applies
        self.warehouse = incremental
        return Night(incremental, full, log)

    def dbt(self, warehouse: Path, *args: str) -> str:
        return run_dbt(self.root, {DBT_WAREHOUSE_ENV: str(warehouse), "TOUCHLINE_LAKE": str(self.lake)},
                       "build", "--select", *SELECT, "--indirect-selection", "cautious", *args)


def main_differences(left: Path, right: Path) -> list[str]:
    """Tables of the main schema that differ between two warehouses (as multisets of rows, every column)."""
    with duckdb.connect(str(left), read_only=True) as a, duckdb.connect(str(right), read_only=True) as b:
        tables_a, tables_b = published_relations(a), published_relations(b)
        found = [f"tables {sorted(tables_a)} != {sorted(tables_b)}"] if tables_a.keys() != tables_b.keys() else []
        for name in sorted(tables_a.keys() & tables_b.keys()):
            if tables_a[name] != tables_b[name]:
                found.append(f"{name}: columns {tables_a[name]} != {tables_b[name]}")
                continue
            rows_a, rows_b = (con.execute(f'select * from main."{name}"').fetchall() for con in (a, b))
            key = repr
            if sorted(rows_a, key=key) != sorted(rows_b, key=key):
                only_a = [r for r in rows_a if r not in rows_b]
                only_b = [r for r in rows_b if r not in rows_a]
                found.append(f"{name} ({len(rows_a)} vs {len(rows_b)} rows): e.g. {only_a[:2]} vs {only_b[:2]}")
    return found


def changed(night: Night, table: str) -> dict[str, int]:
    """What the incremental build recomputed: reason -> rows of a change set table."""
    return dict(night.query(f"select reason, count(*) from incremental.{table} group by reason order by reason"))


@pytest.fixture(scope="module")
def first_night(tmp_path_factory) -> Zone:
    """The tiny landing zone (14 touchpoints of 4 people, 2 spend rows, 1 quarantined line), ingested
    and built once: the published warehouse every test's first incremental night starts from."""
    z = Zone(tmp_path_factory.mktemp("first-night"))
    tiny_landing(z.landing)
    z.ingest()
    first = z.build()
    assert main_differences(first.incremental, first.full) == []
    assert first.query("select count(*) from fct_touchpoints") == [(14,)]
    return z


@pytest.fixture
def zone(first_night, tmp_path) -> Zone:
    """A copy of the first night's landing zone, lake and warehouse, for one test to change."""
    root = tmp_path / "zone"
    shutil.copytree(first_night.root, root, ignore=shutil.ignore_patterns("target", "logs"))
    z = Zone.__new__(Zone)
    z.__dict__ = dict(first_night.__dict__, root=root, landing=root / "landing", lake=root / "lake", builds=root / "builds",
                      warehouse=root / first_night.warehouse.relative_to(first_night.root))
    return z


def assert_same_as_full_rebuild(night: Night) -> None:
    assert main_differences(night.incremental, night.full) == []


def test_a_new_day_adds_its_rows_and_recomputes_nothing_else(zone):
    write_export(zone.landing, "shopify_orders", "2026-10-21", [order("#4", "bob@example.com", "2026-10-21", "30.00")])
    zone.ingest()
    with duckdb.connect(str(zone.warehouse)) as con:  # the table of a model since removed (it was one until this change)
        con.execute("create table main.int_touchpoints_deduplicated as select 1 as touchpoint_id")
    night = zone.build(("2026-10-21", "2026-10-21"))
    assert_same_as_full_rebuild(night)  # the removed model's table was dropped (on-run-end)
    assert "dropping" in night.log and "int_touchpoints_deduplicated" in night.log
    assert changed(night, "inc_changed_files") == {"not built before": 1}
    assert changed(night, "inc_changed_touchpoints") == {"delivered in a changed file": 1}
    assert changed(night, "inc_touchpoint_files") == {"changed file": 1}  # the lake read: that file alone
    assert night.query("select count(*) from fct_touchpoints") == [(15,)]
    assert night.query("select person_key, occurred_at, revenue from fct_touchpoints where source_file like 'shopify_orders/2026-10-21/%'") == [
        (BOB, datetime(2026, 10, 21, 14), 30.0)]
    # Bob's rows of the person-level models are recomputed (his first purchase), nobody else's
    assert night.query("select person_key, reason from incremental.inc_changed_people") == [(BOB, "holds a new or changed touchpoint")]
    assert night.query(f"select purchases, lifetime_revenue from int_people_activity where person_key = '{BOB}'") == [(1, 30.0)]


def test_without_a_window_only_what_changed_is_recomputed(zone):
    """A night's build passes no window (orchestration/dbt.py): the new file's row and nothing else."""
    write_export(zone.landing, "shopify_orders", "2026-10-21", [order("#4", "bob@example.com", "2026-10-21", "30.00")])
    zone.ingest()
    night = zone.build()
    assert_same_as_full_rebuild(night)
    assert changed(night, "inc_changed_files") == {"not built before": 1}
    assert changed(night, "inc_changed_touchpoints") == {"delivered in a changed file": 1}
    zone.ingest()  # nothing landed since
    again = zone.build()  # so nothing is recomputed
    assert_same_as_full_rebuild(again)
    assert changed(again, "inc_changed_files") == {} and changed(again, "inc_changed_touchpoints") == {}


CHECKS = itertools.count()  # numbers the warehouse copies of failing_tests


def failing_tests(zone: Zone, night: Night, tests: tuple[str, ...], *changes: str, full_refresh: bool = False) -> set[str]:
    """Of the dbt tests `tests`, those that fail on a copy of the night's warehouse after the SQL
    statements `changes`. With full_refresh, the first test alone, in a `dbt build --full-refresh`
    (`dbt test` has no --full-refresh; in `dbt build` a failed test would skip what is built after it)."""
    warehouse = zone.builds / f"{night.incremental.parent.name}-check-{next(CHECKS)}.duckdb"
    shutil.copyfile(night.incremental, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        for sql in changes:
            con.execute(sql)
    selected = tests[:1] if full_refresh else tests
    command = ["build", "--full-refresh"] if full_refresh else ["test"]
    out = run_dbt(zone.root, {DBT_WAREHOUSE_ENV: str(warehouse), "TOUCHLINE_LAKE": str(zone.lake)},
                  *command, "--select", *selected, check=False)
    ran = {name for name in tests if re.search(rf"(PASS|FAIL \d+) {name}\b", out)}
    assert ran == set(selected), out[-3000:]
    return {name for name in tests if re.search(rf"FAIL \d+ {name}\b", out)}


def a_night_with_a_new_order_of_bob(zone: Zone) -> Night:
    write_export(zone.landing, "shopify_orders", "2026-10-21", [order("#4", "bob@example.com", "2026-10-21", "30.00")])
    zone.ingest()
    return zone.build()


UNIQUE_TESTS = ("unique_int_touchpoints_resolved_touchpoint_id", "unique_fct_touchpoints_touchpoint_id")


def test_a_night_checks_the_uniqueness_of_the_ids_it_changed(zone):
    """macros/test_unique_changed.sql: an incremental build counts the ids of its change set over
    the whole table; the rest was unique when it was published. A whole build (an empty change set,
    or --full-refresh) counts every id."""
    night = a_night_with_a_new_order_of_bob(zone)
    [(new_id,)] = night.query("select touchpoint_id from incremental.inc_changed_touchpoints")
    [(old_id,)] = night.query(f"select min(touchpoint_id) from int_touchpoints_resolved where touchpoint_id <> '{new_id}'")

    def twice(touchpoint_id: str) -> str:
        return f"insert into int_touchpoints_resolved select * from int_touchpoints_resolved where touchpoint_id = '{touchpoint_id}'"

    empty_change_set = "delete from incremental.inc_changed_touchpoints"
    assert failing_tests(zone, night, UNIQUE_TESTS, twice(new_id)) == set(UNIQUE_TESTS)  # found, in the table and its view
    assert failing_tests(zone, night, UNIQUE_TESTS, twice(old_id)) == set()  # an id no build changed is not grouped again
    assert failing_tests(zone, night, UNIQUE_TESTS, twice(old_id), empty_change_set) == set(UNIQUE_TESTS)
    assert failing_tests(zone, night, UNIQUE_TESTS, twice(old_id), full_refresh=True) == {UNIQUE_TESTS[0]}


PERSON_TESTS = {  # the per-person models' uniqueness tests -> their table
    "unique_int_people_activity_person_key": "int_people_activity",
    "unique_combination_int_funnel_person_stages_person_key__journey_stage": "int_funnel_person_stages",
    "unique_combination_int_attribution_journeys_journey_id__touchpoint_id": "int_attribution_journeys",
}


def test_a_night_checks_the_uniqueness_of_the_people_it_changed(zone):
    """The same for the models kept per person (changed_keys inc_changed_people, key person_key):
    the combinations that the changed people's rows hold are counted over the whole table, also
    where person_key is not one of the columns (a journey row of a changed person duplicating an
    unchanged person's)."""
    night = a_night_with_a_new_order_of_bob(zone)
    assert night.query("select person_key from incremental.inc_changed_people") == [(BOB,)]
    tests = tuple(PERSON_TESTS)

    def twice(person: str) -> list[str]:
        """One row of `person` in each table, inserted again."""
        return [f"insert into {table} select * from {table} where person_key = '{person}' limit 1" for table in PERSON_TESTS.values()]

    for table in PERSON_TESTS.values():  # each table has rows of both
        assert night.query(f"select count(distinct person_key) from {table} where person_key in ('{BOB}', '{ALICE}')") == [(2,)], table
    assert failing_tests(zone, night, tests, *twice(BOB)) == set(tests)  # a changed person's row twice
    assert failing_tests(zone, night, tests, *twice(ALICE)) == set()  # nobody changed Alice's rows
    assert failing_tests(zone, night, tests, *twice(ALICE), "delete from incremental.inc_changed_people") == set(tests)
    # Bob's journey row copied to Alice: the copy is an unchanged person's row, the original a changed one's
    journeys = "unique_combination_int_attribution_journeys_journey_id__touchpoint_id"
    copied = f"insert into int_attribution_journeys select * replace ('{ALICE}' as person_key) from int_attribution_journeys where person_key = '{BOB}' limit 1"
    assert failing_tests(zone, night, (journeys,), copied) == {journeys}
    assert failing_tests(zone, night, tests, *twice(ALICE), full_refresh=True) == {tests[0]}


def test_a_redelivered_file_replaces_its_rows_removed_rows_go(zone):
    day = "2026-10-21"
    write_export(zone.landing, "shopify_orders", day, [order("#4", "bob@example.com", day, "30.00"),
                                                       order("#5", "erin@example.com", day, "20.00")])
    zone.ingest()
    assert_same_as_full_rebuild(zone.build((day, day)))
    # re-delivered: #4 now 35.00, #5 gone; and the 10-15 file fixed (its cut line, quarantined, gone)
    write_export(zone.landing, "shopify_orders", day, [order("#4", "bob@example.com", day, "35.00")])
    write_export(zone.landing, "shopify_orders", "2026-10-15", [order("#2", "dan@example.com", "2026-10-15", "80.00")])
    zone.ingest()
    night = zone.build((day, day))  # the 10-15 file is outside the window: rebuilt because it changed
    assert_same_as_full_rebuild(night)
    assert night.query("select revenue from fct_touchpoints where touchpoint_type = 'purchase' and person_key = ?".replace("?", f"'{BOB}'")) == [(35.0,)]
    assert night.query(f"select count(*) from fct_touchpoints where person_key = '{person_key('erin@example.com')}'") == [(0,)]
    assert night.query("select count(*) from quarantine") == [(0,)]
    assert night.query("select count(*) from fct_touchpoints") == [(15,)]  # 14 + #4


def test_an_id_delivered_on_two_days_is_recomputed_from_all_its_deliveries(zone):
    # order #3 (Alice, 50.00, landed 2026-10-20) delivered again on 10-22 with another total: the
    # first delivery wins, so fct keeps 50.00
    write_export(zone.landing, "shopify_orders", "2026-10-22", [order("#3", "alice@example.com", "2026-10-20", "55.00")])
    zone.ingest()
    night = zone.build(("2026-10-22", "2026-10-22"))
    assert_same_as_full_rebuild(night)
    purchase_3 = "select revenue, source_file from fct_touchpoints where revenue in (50, 55)"
    assert night.query(purchase_3) == [(50.0, "shopify_orders/2026-10-20/export.csv")]
    # read: the new file and the one of #3's first delivery (without it, 55.00 would win)
    assert changed(night, "inc_touchpoint_files") == {"changed file": 1, "first delivery of a changed id": 1}
    # the 10-20 file re-delivered without #3 (window: 10-20 only): #3 now comes from the 10-22
    # file, outside the window
    write_export(zone.landing, "shopify_orders", "2026-10-20", [])
    zone.ingest()
    night = zone.build(("2026-10-20", "2026-10-20"))
    assert_same_as_full_rebuild(night)
    assert night.query(purchase_3) == [(55.0, "shopify_orders/2026-10-22/export.csv")]
    assert changed(night, "inc_changed_touchpoints") == {"first delivery changed or gone": 1}
    # the first delivery's file changed: any other delivery may come first now, the lake is read whole
    assert changed(night, "inc_touchpoint_files") == {"whole lake": 1}


def test_an_identity_link_moves_old_touchpoints_to_the_merged_person(zone):
    # Carol's only touchpoint is an anonymous click of 2026-10-04 (visitor vc). A click of 10-23
    # carries both vc and her email: vc now resolves to her email key, the old click with it.
    write_export(zone.landing, "ad_clicks", "2026-10-23", [["a9", "2026-10-23T09:00:00.000Z", "vc", "carol@example.com",
                                                            "https://shop.example.com/", ""]])
    zone.ingest()
    night = zone.build(("2026-10-23", "2026-10-23"))
    assert_same_as_full_rebuild(night)
    assert night.query(f"select count(*) from fct_touchpoints where person_key = '{CAROL}'") == [(0,)]
    assert night.query(f"select cast(occurred_at as date)::varchar from fct_touchpoints where person_key = '{CAROL_EMAIL}' order by 1") == [
        ("2026-10-04",), ("2026-10-23",)]
    assert changed(night, "inc_changed_touchpoints") == {"delivered in a changed file": 1, "person resolved differently": 1}
    assert changed(night, "inc_touchpoint_files") == {"changed file": 1, "first delivery of a changed id": 1}  # the old click's file
    # both people's rows are recomputed: the visitor key loses its click (and its row), the email key gains two
    assert dict(night.query("select person_key, reason from incremental.inc_changed_people")) == {
        CAROL: "held a changed, moved or removed touchpoint", CAROL_EMAIL: "holds a new or changed touchpoint"}
    assert night.query(f"select count(*) from int_people_activity where person_key = '{CAROL}'") == [(0,)]
    assert night.query(f"select touchpoints from int_people_activity where person_key = '{CAROL_EMAIL}'") == [(2,)]


def test_a_file_removed_from_the_lake_loses_its_rows(zone):
    # Alice's reward (referral_events/2026-10-15) removed from the landing zone, then a full refresh
    # of ingestion: every file is read again (new batch), the reward's rows are deleted from the lake
    (zone.landing / "referral_events" / "2026-10-15" / "export.csv").unlink()
    zone.ingest(full_refresh=True)
    night = zone.build(("2026-10-21", "2026-10-21"))  # nothing landed in the window
    assert_same_as_full_rebuild(night)
    assert night.query("select count(*) from fct_touchpoints where touchpoint_type = 'referral_reward'") == [(0,)]
    assert night.query("select count(*) from fct_touchpoints") == [(13,)]
    assert changed(night, "inc_changed_files")["gone from the lake"] == 1


def test_a_night_that_failed_before_publishing_is_caught_up(zone):
    # night 2 ingests 10-21 and fails before dbt; night 3 ingests 10-22 and builds with its window only
    write_export(zone.landing, "shopify_orders", "2026-10-21", [order("#4", "bob@example.com", "2026-10-21", "30.00")])
    zone.ingest()
    write_export(zone.landing, "shopify_orders", "2026-10-22", [order("#6", "dan@example.com", "2026-10-22", "40.00")])
    write_export(zone.landing, "google_ads_campaign_day", "2026-10-22", [["2026-10-22", "111", "Spring Sale - Search", "USD", "800", "8", "9.50"]],
                 preamble="Campaign performance report\nOctober 22, 2026 - October 22, 2026\n")
    zone.ingest()
    night = zone.build(("2026-10-22", "2026-10-22"))
    assert_same_as_full_rebuild(night)
    assert night.query("select count(*), sum(revenue) from fct_touchpoints where touchpoint_type = 'purchase'") == [(5, 300.0)]  # 100+80+50+30+40
    assert night.query("select count(*), round(sum(spend), 2) from fct_ad_spend") == [(3, 26.2)]
    assert changed(night, "inc_changed_files") == {"not built before": 3}
