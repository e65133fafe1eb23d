"""Whether a run builds the warehouse whole or incrementally, and what the published warehouse read
of the lake: one answer for the dbt step (orchestration/dbt.py) and the lake's checks
(orchestration/checks.py), which validate only what the published build has not read yet."""

from __future__ import annotations

from pathlib import Path

from orchestration.normalize import is_full_refresh
from touchline.settings import Settings

LEDGER = "inc_lake_files"  # what an incremental build compares the lake with (dbt_project/models/incremental/)
LEDGER_SCHEMA = "incremental"


def has_incremental_ledger(warehouse: Path) -> bool:
    """Whether the published warehouse can be built on incrementally: it has the file versions its
    build read. One built before the incremental models existed has not (and has an older column
    list in some tables): the next build is then a full rebuild, with no `--full-refresh` by hand.
    No warehouse yet: an incremental build of an empty file is a whole one anyway."""
    import duckdb

    if not warehouse.exists():
        return True
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute("select count(*) from information_schema.tables where table_name = ?", [LEDGER]).fetchone()[0] > 0
    except duckdb.Error:
        return True  # held or broken: prepare_staging's copy says what to do about it


def full_rebuild_reason(settings: Settings, tags: dict[str, str]) -> str | None:
    """Why this run's dbt build is a full rebuild (`dbt build --full-refresh` on an empty staging
    file), or None when it builds incrementally on a copy of the published warehouse: a full refresh
    (TOUCHLINE_FULL_REFRESH or the run's tag), or a published warehouse without the ledger."""
    if is_full_refresh(settings.full_refresh, tags):
        return "full refresh"
    if not has_incremental_ledger(settings.warehouse):
        return f"{settings.warehouse} predates the incremental models (no {LEDGER})"
    return None


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
