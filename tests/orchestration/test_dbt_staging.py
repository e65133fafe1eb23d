"""Where the dbt step's build starts (orchestration/dbt.py: start_staging): runs of one backfill that
each build a subset of the dbt assets continue one staging file; anything else starts afresh."""

from types import SimpleNamespace

import duckdb

from orchestration.dbt import build_args, start_staging
from tests.test_publish import build_staging, settings_in
from touchline.publish import publish


def step(run_id: str, *, backfill: str | None = None, subset: bool = True):
    """What start_staging reads of a step's context: the run's id and tags, and whether it is a subset."""
    tags = {"dagster/backfill": backfill} if backfill else {}
    return SimpleNamespace(run=SimpleNamespace(run_id=run_id, tags=tags), is_subset=subset)


def rebuild(s, version: int) -> None:
    """dbt building version `version` of the facts table into whatever the staging file holds."""
    with duckdb.connect(str(s.staging_warehouse)) as con:
        con.execute(f"create or replace table facts as select range as id, {version} as version from range(10)")


def version(path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select max(version) from facts").fetchone()[0]


def test_runs_of_one_backfill_continue_its_staging_build_and_others_start_afresh(tmp_path):
    s = settings_in(tmp_path)
    build_staging(s, 1, rows=10)
    publish(s)  # the published warehouse is version 1
    # the backfill's first dbt run starts from a copy of the published file, and builds version 2 on it
    assert start_staging(s, step("r1", backfill="b1"), full_refresh=False).startswith("staging starts from a copy of")
    rebuild(s, 2)
    assert start_staging(s, step("r1b", backfill="b1"), full_refresh=False).startswith("staging starts from a copy of")
    assert version(s.staging_warehouse) == 1  # r1's dbt build never completed: a half-applied build is not continued
    rebuild(s, 2)
    s.staging_owner.write_text("backfill b1: built")  # what the dbt step writes once `dbt build` succeeded
    # its next run builds on version 2, not on a new copy of version 1
    assert start_staging(s, step("r2", backfill="b1"), full_refresh=False) == "staging continues the build of backfill b1"
    assert version(s.staging_warehouse) == 2
    # another backfill, or a subset run outside a backfill, starts from the published file again
    assert start_staging(s, step("r3", backfill="b2"), full_refresh=False).startswith("staging starts from a copy of")
    assert version(s.staging_warehouse) == 1
    rebuild(s, 3)
    assert start_staging(s, step("r4"), full_refresh=False).startswith("staging starts from a copy of")
    assert version(s.staging_warehouse) == 1
    # a whole build on a full refresh starts empty, a whole night from the published file
    assert start_staging(s, step("r5", subset=False), full_refresh=True) == "staging starts empty"
    assert not s.staging_warehouse.exists()
    assert s.staging_owner.read_text() == "run r5: building"
    assert start_staging(s, step("r6", subset=False), full_refresh=False).startswith("staging starts from a copy of")


def test_the_build_arguments_carry_the_window_and_the_full_refresh():
    from datetime import date

    assert build_args(None, full_refresh=False, fingerprint="f1") == [
        "build", "--vars", '{"project_fingerprint": "f1"}', "--exclude-resource-type", "unit_test"]  # they ran in the whole build
    assert build_args((date(2026, 10, 1), date(2026, 10, 31)), full_refresh=True, fingerprint="f1") == [
        "build", "--vars", '{"project_fingerprint": "f1", "window_start": "2026-10-01", "window_end": "2026-10-31"}', "--full-refresh"]


def test_a_warehouse_built_before_the_incremental_models_or_by_another_project_gets_a_full_rebuild(tmp_path):
    from orchestration.builds import published_build_reason

    s = settings_in(tmp_path)
    assert "no published warehouse" in published_build_reason(s.warehouse, "f1")  # the first build is whole
    build_staging(s, 1, rows=10)
    publish(s)
    assert "predates the incremental models (no inc_lake_files)" in published_build_reason(s.warehouse, "f1")
    with duckdb.connect(str(s.warehouse)) as con:
        con.execute("create schema incremental")
        con.execute("create table incremental.inc_lake_files (lake_table varchar, source_file varchar, batch_id varchar)")
    # a ledger but no fingerprint (built before inc_build existed, or inc_build not built): whole
    assert "built by another version of the dbt project" in published_build_reason(s.warehouse, "f1")
    with duckdb.connect(str(s.warehouse)) as con:
        con.execute("create table incremental.inc_build as select 'f1' as project_fingerprint")
    assert published_build_reason(s.warehouse, "f1") is None
    assert "built by another version of the dbt project" in published_build_reason(s.warehouse, "f2")  # a model changed since


def test_dbt_docs_are_regenerated_only_when_the_project_changed_or_on_a_full_refresh(tmp_path):
    import orchestration.dbt as dbt_step

    s = settings_in(tmp_path)
    commands = []

    class FakeDbt:
        def cli(self, args, target_path):
            commands.append(args)
            target_path.mkdir(parents=True, exist_ok=True)
            (target_path / "static_index.html").write_text(f"docs {len(commands)}")
            return SimpleNamespace(wait=lambda: None)

    page = s.dbt_docs_dir / "index.html"
    assert dbt_step.write_dbt_docs(FakeDbt(), s, "a") == f"dbt docs: {page}"
    assert dbt_step.write_dbt_docs(FakeDbt(), s, "a").endswith("kept (the dbt project has not changed since they were generated)")
    assert (len(commands), page.read_text()) == (1, "docs 1")
    dbt_step.write_dbt_docs(FakeDbt(), s, "b")  # a model changed
    dbt_step.write_dbt_docs(FakeDbt(), s, "b", regenerate=True)  # a full refresh
    assert (len(commands), page.read_text()) == (3, "docs 3")
    page.unlink()  # removed by hand
    dbt_step.write_dbt_docs(FakeDbt(), s, "b")
    assert commands == [["docs", "generate", "--static"]] * 4


def test_the_project_fingerprint_changes_with_any_project_file(tmp_path, monkeypatch):
    import orchestration.builds as dbt_step

    assert {"dbt_project.yml", "profiles.yml", "fct_touchpoints.sql", "incremental.sql"} <= {p.name for p in dbt_step.project_files()}
    monkeypatch.setattr(dbt_step, "DBT_PROJECT_DIR", tmp_path)
    for name in ("dbt_project.yml", "profiles.yml", "models/a.sql", "macros/m.sql"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("select 1")
    first = dbt_step.project_fingerprint()
    assert dbt_step.project_fingerprint() == first
    (tmp_path / "models" / "a.sql").write_text("select 2")
    second = dbt_step.project_fingerprint()
    (tmp_path / "models" / "b.sql").write_text("select 2")  # a new model
    third = dbt_step.project_fingerprint()
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text("{}")  # dbt's output is not the project
    assert len({first, second, third}) == 3 and dbt_step.project_fingerprint() == third
