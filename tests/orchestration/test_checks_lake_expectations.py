"""The lake's Great Expectations checks (orchestration/checks.py: build_lake_expectations) read only the
lake files the published warehouse has not read yet (its ledger incremental.inc_lake_files), and the
whole lake on a full build (expectations/lake_scope.py).

Lake files are written by hand (<lake>/touchpoints/<source_file>.parquet, two survey answers each, as
ingestion writes them); "publishing" writes the ledger a dbt build would leave (what the lake holds,
per lake table: inc_lake_file_versions.sql), so no dbt runs here. The checks run in Dagster."""

import json

import dagster as dg
import duckdb
import pytest

from expectations import lake_scope
from ingestion import schema, storage
from ingestion.contracts import load_contracts
from orchestration.builds import project_fingerprint
from orchestration.checks import build_lake_expectations
from orchestration.normalize import AD_SPEND, FULL_REFRESH_TAG, TOUCHPOINTS
from orchestration.resources import TouchlineResource
from tests.expectations.test_suites import touchpoints
from touchline import settings as settings_module

CONTRACTS = load_contracts()
A = "typeform_responses/2026-10-01/a.csv"
B = "typeform_responses/2026-10-02/b.csv"
C = "typeform_responses/2026-10-03/c.csv"


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.setenv("TOUCHLINE_DATA", str(tmp_path))
    for name in ("TOUCHLINE_LAKE", "TOUCHLINE_WAREHOUSE", "TOUCHLINE_LANDING", "TOUCHLINE_FULL_REFRESH", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    settings = settings_module.load()
    storage.ensure_schema_files(settings.lake)
    return settings


def land(s, source_file: str, batch_id: str, *, bad: bool = False) -> None:
    """A lake file of two survey answers from `source_file`, written by ingestion run `batch_id`;
    `bad`: its second row has a negative revenue (touchpoints_suite: revenue >= 0)."""
    frame = touchpoints(source_file=[source_file] * 2, batch_id=[batch_id] * 2, touchpoint_id=[f"{source_file}#1", f"{source_file}#2"],
                        revenue=[None, -5.0 if bad else None], currency=[None, "EUR" if bad else None])
    storage.write_parquet_atomic(frame, storage.output_path(s.lake, "touchpoints", source_file))


def publish(s, only: list[str] | None = None) -> None:
    """The published warehouse after a build that read the lake as it is now (or only the files `only`)."""
    s.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(s.warehouse)) as con:
        con.execute("create schema if not exists incremental")
        con.execute("create or replace table incremental.inc_lake_files (lake_table varchar, source_file varchar, batch_id varchar)")
        for table in lake_scope.LAKE_TABLES:
            con.execute(f"insert into incremental.inc_lake_files select distinct '{table}', source_file, batch_id "
                        f"from read_parquet('{storage.table_glob(s.lake, table)}', union_by_name = true)")
        if only is not None:
            con.execute("delete from incremental.inc_lake_files where not list_contains(?, source_file)", [only])
        con.execute("create or replace table incremental.inc_build as select ? as project_fingerprint", [project_fingerprint()])


@dg.multi_asset(specs=[dg.AssetSpec(TOUCHPOINTS), dg.AssetSpec(AD_SPEND)])
def lake_tables():
    """Stands for the ingestion step: the lake is already on disk."""
    yield dg.MaterializeResult(asset_key=TOUCHPOINTS)
    yield dg.MaterializeResult(asset_key=AD_SPEND)


def night(tags: dict[str, str] | None = None) -> dict[str, dg.AssetCheckEvaluation]:
    """The lake expectations as a run checks them: check name -> evaluation."""
    with dg.instance_for_test() as instance:
        result = dg.materialize([lake_tables, build_lake_expectations(CONTRACTS)], resources={"touchline": TouchlineResource()},
                                instance=instance, tags=tags or {}, raise_on_error=False)
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def meta(evaluation: dg.AssetCheckEvaluation) -> dict:
    return {k: v.value if hasattr(v, "value") else v for k, v in evaluation.metadata.items()}


def failing_files(evaluation: dg.AssetCheckEvaluation) -> set[str]:
    return {row["source_file"] for f in meta(evaluation)["failures"] for row in f["failing_rows"]}


def first_night(s) -> None:
    """File A, ingested on a night that validated the whole lake (the current suites are recorded as
    passed: what the check writes, test_the_whole_lake_passing...), then published."""
    from expectations.suites import lake_specs

    land(s, A, "night-1")
    lake_scope.record_validated(s.lake, lake_scope.suite_fingerprints(lake_specs(str, CONTRACTS.values(), now=lake_scope.FINGERPRINT_NOW)))
    publish(s)


def test_a_night_with_one_new_bad_file_fails_and_names_it(s):
    first_night(s)
    land(s, B, "night-2", bad=True)
    check = night()["touchpoints_expectations"]
    assert (check.passed, check.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert failing_files(check) == {B}
    m = meta(check)
    assert (m["whole_lake"], m["rows_validated"], m["lake_files_validated"], m["lake_files"]) == (False, 2, 1, 2)
    assert m["files_validated"] == [storage.output_path(s.lake, "touchpoints", B).as_posix()]
    assert check.description.startswith("1 of ")
    assert "on 2 rows (the 1 of 2 touchpoints lake files not yet in the published warehouse)" in check.description
    assert check.description.endswith(f"expect_column_values_to_be_between on revenue: 1 rows (100.00%), e.g. [-5.0] in {B}")


def test_a_bad_file_the_failed_night_left_unpublished_fails_the_next_night_too(s):
    first_night(s)
    land(s, B, "night-2", bad=True)
    assert night()["touchpoints_expectations"].passed is False  # nothing published: the ledger still holds A only
    land(s, C, "night-3")  # the next night ingests only C; B is still in the lake, not yet published
    check = night()["touchpoints_expectations"]
    assert check.passed is False and failing_files(check) == {B}
    m = meta(check)
    assert (m["rows_validated"], m["lake_files_validated"], m["lake_files"]) == (4, 2, 3)
    # B re-delivered fixed (another batch): the night passes
    land(s, B, "night-4")
    assert all(e.passed for e in night().values())


def test_a_published_file_is_not_read_again(s):
    first_night(s)
    land(s, B, "night-2")
    assert night()["touchpoints_expectations"].passed
    publish(s)
    land(s, C, "night-3")
    checks = night()
    m = meta(checks["touchpoints_expectations"])
    assert (m["whole_lake"], m["rows_validated"], m["lake_files_validated"], m["lake_files"]) == (False, 2, 1, 3)
    assert m["files_validated"] == [storage.output_path(s.lake, "touchpoints", C).as_posix()]
    assert meta(checks["survey_expectations"])["rows_validated"] == 2  # the family suites are views of the same rows
    assert meta(checks["ad_spend_expectations"])["rows_validated"] == 0  # no spend at all: the typed empty file
    assert all(e.passed for e in checks.values())
    # A published file is not read: one that a published build read with a bad row (published before
    # these checks existed, say) does not fail a night that does not read it
    land(s, A, "night-1", bad=True)
    publish(s)
    checks = night()
    check = checks["touchpoints_expectations"]
    assert check.passed and meta(check)["rows_validated"] == 0 and meta(check)["lake_files_validated"] == 0
    assert check.description.endswith("on 0 rows: nothing new, all 3 touchpoints lake files are in the published warehouse")
    assert all(e.passed for e in checks.values())  # zero rows: every suite passes


@pytest.mark.parametrize("full_build", ["tag", "setting", "no ledger", "no warehouse", "dbt project changed", "suites changed"])
def test_a_full_build_validates_the_whole_lake(s, full_build, monkeypatch):
    first_night(s)
    land(s, B, "night-2")
    land(s, A, "night-1", bad=True)  # as the previous test: a published file with a bad row
    publish(s)  # a normal night does not read A (test_a_published_file_is_not_read_again)
    tags = {}
    if full_build == "tag":
        tags = {FULL_REFRESH_TAG: "true"}  # touchline run --full-refresh
    elif full_build == "setting":
        monkeypatch.setenv("TOUCHLINE_FULL_REFRESH", "1")
    elif full_build == "no ledger":  # a warehouse built before the incremental models: dbt rebuilds it whole
        with duckdb.connect(str(s.warehouse)) as con:
            con.execute("drop table incremental.inc_lake_files")
    elif full_build == "no warehouse":
        s.warehouse.unlink()
    elif full_build == "dbt project changed":  # the warehouse is rebuilt whole under the new project
        with duckdb.connect(str(s.warehouse)) as con:
            con.execute("update incremental.inc_build set project_fingerprint = 'an older project'")
    else:  # the rules changed since the whole lake last passed them (a new expectation, a contract's value set)
        recorded = s.lake / lake_scope.VALIDATED_FILE
        recorded.write_text(json.dumps(json.loads(recorded.read_text()) | {"survey": "another suite"}))
    checks = night(tags)
    check = checks["touchpoints_expectations"]
    m = meta(check)
    assert (m["whole_lake"], m["rows_validated"]) == (True, 4)
    assert "lake_files_validated" not in m
    assert check.passed is False and failing_files(check) == {A}
    assert meta(checks["survey_expectations"])["whole_lake"] is True


def test_the_first_night_validates_the_whole_lake_and_records_the_suites_it_passed(s):
    from expectations.suites import lake_specs

    land(s, A, "night-1")
    checks = night()  # nothing published yet
    assert all(e.passed for e in checks.values())
    m = meta(checks["touchpoints_expectations"])
    assert (m["whole_lake"], m["rows_validated"]) == (True, 2) and "no published warehouse" in m["scope"]
    current = lake_scope.suite_fingerprints(lake_specs(str, CONTRACTS.values(), now=lake_scope.FINGERPRINT_NOW))
    assert lake_scope.validated_fingerprints(s.lake) == current
    assert lake_scope.suite_fingerprints(lake_specs(str, CONTRACTS.values(), now=lake_scope.FINGERPRINT_NOW)) == current
    fewer = {name: c for name, c in CONTRACTS.items() if name != "surveymonkey_support"}  # the survey family's systems change
    changed = lake_scope.suite_fingerprints(lake_specs(str, fewer.values(), now=lake_scope.FINGERPRINT_NOW))
    assert {name for name in current if changed[name] != current[name]} == {"survey"}


def test_each_lake_suite_names_the_lake_table_it_reads():
    from expectations.suites import lake_specs

    reads = {spec.name: spec.lake_table for spec in lake_specs(str, CONTRACTS.values())}
    assert reads.pop("ad_spend") == "ad_spend"
    assert set(reads.values()) == {"touchpoints"}  # the touchpoints suite and each family's (a view of the touchpoints)
    assert set(reads) == {"touchpoints", *schema.SOURCE_FAMILIES}
    assert {"touchpoints", "ad_spend"} <= set(lake_scope.LAKE_TABLES)
