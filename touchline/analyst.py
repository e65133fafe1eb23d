"""What analysts use from the command line: read-only queries and the list of marts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from touchline.settings import DBT_PROJECT_DIR, Settings

MART_PREFIXES = ("fct_", "dim_", "mart_")
QUALITY_TABLES = ("load_log", "quarantine")
LAKE_VIEW_PREFIX = "stg_"  # dbt's staging views, the only models that select from the lake's parquet


def is_counted(name: str, table_type: str) -> bool:
    """Whether a relation's rows are counted (Dagster metadata, publication): every table, and every
    view that reads the warehouse's tables (fct_touchpoints), not the staging views: counting one
    reads every parquet file of the lake."""
    return table_type == "BASE TABLE" or not name.startswith(LAKE_VIEW_PREFIX)


class QueryError(Exception):
    """A query that cannot run; the message is for the person who typed it."""


def connect_read_only(settings: Settings) -> duckdb.DuckDBPyConnection:
    if not settings.warehouse.exists():
        raise QueryError(f"no warehouse at {settings.warehouse}: build it first with `make run`")
    try:
        return duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.IOException as exc:
        raise QueryError(f"cannot open {settings.warehouse} read-only: {exc}") from None


def run_query(settings: Settings, sql: str) -> tuple[list[str], list[tuple]]:
    """Columns and rows of a read-only query; writes are refused by DuckDB's read-only mode."""
    with connect_read_only(settings) as con:
        try:
            cursor = con.execute(sql)
        except duckdb.Error as exc:
            message = str(exc).splitlines()[0]
            if "read-only" in message.lower() or "read only" in message.lower():
                raise QueryError(f"touchline query is read-only; the warehouse is rebuilt by `make run`, not edited ({message})") from None
            raise QueryError(message) from None
        if cursor.description is None:
            return [], []
        return [d[0] for d in cursor.description], cursor.fetchall()


def export_query(settings: Settings, sql: str, out: Path, fmt: str) -> int:
    """Write a read-only query's full result to CSV or Parquet; returns the row count."""
    with connect_read_only(settings) as con:
        try:
            relation = con.sql(sql)
        except duckdb.Error as exc:
            raise QueryError(str(exc).splitlines()[0]) from None
        if relation is None:
            raise QueryError("the statement returns no rows to export")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        (relation.write_parquet if fmt == "parquet" else relation.write_csv)(str(tmp))
        tmp.replace(out)  # never half a file
        return con.execute(f"select count(*) from ({sql})").fetchone()[0]


@dataclass
class MartInfo:
    name: str
    rows: int
    built_at: datetime | None
    description: str


def mart_row_counts(settings: Settings) -> dict[str, int]:
    """Rows of every mart and quality table analysts read (marts first, by name)."""
    with connect_read_only(settings) as con:
        names = [name for name, kind in con.execute(
            "select table_name, table_type from information_schema.tables where table_schema = 'main' order by table_name").fetchall()
            if is_counted(name, kind)]
        shown = [n for n in names if n.startswith(MART_PREFIXES)] + [n for n in QUALITY_TABLES if n in names]
        return {n: con.execute(f'select count(*) from "{n}"').fetchone()[0] for n in shown}


def list_marts(settings: Settings) -> list[MartInfo]:
    descriptions = _dbt_descriptions()
    built = _last_builds(settings)
    return [MartInfo(name, rows, built.get(name), descriptions.get(name, "")) for name, rows in mart_row_counts(settings).items()]


def _dbt_descriptions() -> dict[str, str]:
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists():
        return {}
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {n["name"]: " ".join(n.get("description", "").split()) for n in nodes if n["resource_type"] == "model"}


def _last_builds(settings: Settings) -> dict[str, datetime]:
    """When each table of the published warehouse was built, as its latest publication recorded it
    (not the latest dbt materialization: that may be a staging build that was never published)."""
    if not settings.dagster_home.exists():
        return {}  # no run was ever recorded here
    settings.export()
    import dagster as dg

    from orchestration.publish import published_built_at

    with dg.DagsterInstance.get() as instance:
        return published_built_at(instance)
