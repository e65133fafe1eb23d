"""Whether a run builds the warehouse whole or incrementally, and what the published warehouse read
of the lake: one answer for the dbt step (orchestration/dbt.py) and the lake's checks
(orchestration/checks.py), which validate only what the published build has not read yet."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from orchestration.normalize import is_full_refresh
from touchline.settings import DBT_PROJECT_DIR, Settings

LEDGER = "inc_lake_files"  # what an incremental build compares the lake with (dbt_project/models/incremental/)
LEDGER_SCHEMA = "incremental"
BUILD = "inc_build"  # the project fingerprint of the build (dbt_project/models/incremental/inc_build.sql)


def published_build_reason(warehouse: Path, fingerprint: str) -> str | None:
    """Why the published warehouse cannot be built on incrementally, or None when it can.

    - It was built before the incremental models existed: it has no ledger of the file versions its
      build read (and an older column list in some tables).
    - It was built by another version of the dbt project (`fingerprint`: dbt's version and every
      project file): a changed model, macro, seed (currency rates, journey stages) or var could
      change rows that the incremental models would keep, since they recompute only what changed in
      the lake.
    - There is none yet: the first build is whole (and runs dbt's unit tests: orchestration/dbt.py)."""
    import duckdb

    if not warehouse.exists():
        return f"no published warehouse at {warehouse} yet"
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            tables = {name for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [LEDGER_SCHEMA]).fetchall()}
            if LEDGER not in tables:
                return f"{warehouse} predates the incremental models (no {LEDGER})"
            built = con.execute(f'select project_fingerprint from "{LEDGER_SCHEMA}"."{BUILD}"').fetchone() if BUILD in tables else None
    except duckdb.Error:
        return None  # held or broken: prepare_staging's copy says what to do about it
    if built is None or built[0] != fingerprint:
        return (f"{warehouse} was built by another version of the dbt project (models, macros, seeds, vars or dbt "
                "itself changed since), so every model is rebuilt under the current one")
    return None


def full_rebuild_reason(settings: Settings, tags: dict[str, str]) -> str | None:
    """Why this run's dbt build is a full rebuild (`dbt build --full-refresh` on an empty staging
    file), or None when it builds incrementally on a copy of the published warehouse: a full refresh
    (TOUCHLINE_FULL_REFRESH or the run's tag), or a published warehouse that cannot be built on
    (published_build_reason)."""
    if is_full_refresh(settings.full_refresh, tags):
        return "full refresh"
    return published_build_reason(settings.warehouse, project_fingerprint())


def published_lake_files(warehouse: Path) -> dict[str, set[tuple[str, str]]] | None:
    """The lake file versions the published build read, per lake table: {table: {(source_file,
    batch_id)}} (the ledger `incremental.inc_lake_files`). None when there is none to go by: no
    published warehouse, one without the ledger, or one that cannot be opened (held, broken)."""
    import duckdb

    if not warehouse.exists():
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute(f'select lake_table, source_file, batch_id from "{LEDGER_SCHEMA}"."{LEDGER}"').fetchall()
    except duckdb.Error:
        return None
    out: dict[str, set[tuple[str, str]]] = {}
    for table, source_file, batch_id in rows:
        out.setdefault(table, set()).add((source_file, batch_id))
    return out


def project_files() -> list[Path]:
    """The files dbt reads to parse the project."""
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        files.extend(sorted(p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file()))
    return files


def project_fingerprint() -> str:
    """SHA-256 over dbt's version and every project file's path and bytes."""
    digest = hashlib.sha256(metadata.version("dbt-core").encode())
    for path in project_files():
        digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
