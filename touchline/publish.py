"""Stage, then publish: dbt builds a staging DuckDB file; analysts' file changes in one rename.

The warehouse analysts read (`settings.warehouse`) is never opened for writing by the pipeline.
dbt builds `settings.staging_warehouse`, a file in the same folder. When every blocking check and
every dbt test passed, `publish` checkpoints and closes the staging file and renames it onto the
published path with `os.replace`: a reader opening the path gets the old file or the new one,
whole; a reader already holding the old file keeps reading it (POSIX keeps the inode alive). A
night that fails never reaches `publish`, so the published file stays byte-identical.

Where the staging build starts:
- A *full rebuild* (`dbt build --full-refresh`) starts from an empty file: every model is rebuilt,
  so the published warehouse is exactly what tonight's build produced, with no table left over
  from a model that was removed or renamed and no multi-GB copy.
- An *incremental* build (`dbt build --vars '{"window_start": ..., "window_end": ...}'`) starts
  from a copy of the published file: the incremental models (int_touchpoints_resolved under the
  fct_touchpoints view, fct_ad_spend, quarantine and the other intermediates) replace only the rows of what changed, and the change sets
  (dbt_project/models/incremental/) are computed against the previous build's tables, among them
  the ledger of the lake file versions it read (`incremental.inc_lake_files`). A night that failed
  never published, so the copy is the last good build and the next night redoes what it missed.
  Without a published file the copy is skipped and every incremental model builds whole.
- A *subset* build (one mart rematerialized from the UI) also starts from a copy, because the
  unselected upstream tables must already be there.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from touchline.analyst import is_counted
from touchline.settings import Settings


class PublishError(Exception):
    """The staging warehouse cannot be published (or prepared); the message says why.

    `retryable`: another process holds one of the files; trying again a little later may succeed
    (the publish step has a Dagster retry policy for that). Otherwise trying again cannot help."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


def wal_path(database: Path) -> Path:
    """DuckDB's write-ahead log of a database file (present only while a writer has it open, or after a crash)."""
    return database.with_name(database.name + ".wal")


def catalog_name(path: Path) -> str:
    """The catalog name DuckDB gives a database file of this name (asked of DuckDB itself, on an empty file)."""
    return _catalog_of_file_name(path.name)


@functools.lru_cache(maxsize=16)
def _catalog_of_file_name(name: str) -> str:
    with tempfile.TemporaryDirectory(prefix="touchline-catalog-") as tmp, duckdb.connect(str(Path(tmp) / name)) as con:
        return con.execute("select current_database()").fetchone()[0]


def _refuse_if_being_written(staging: Path) -> None:
    """A staging file another process holds open for writing belongs to a concurrent build: never delete it."""
    if not staging.exists():
        return
    try:
        duckdb.connect(str(staging)).close()  # takes and releases the writer's lock; replays a crashed build's log
    except duckdb.IOException as exc:
        raise PublishError(f"{staging} is open in another process (another run building the warehouse?): {str(exc).splitlines()[0]}. "
                           "Runs that build the warehouse must not overlap.") from None
    except duckdb.Error:
        pass  # a corrupt leftover of a crashed build: it is about to be deleted anyway


def prepare_staging(settings: Settings, *, from_published: bool) -> str:
    """Give dbt its staging file: removed (a full rebuild starts empty) or a copy of the published one
    (an incremental or subset build; empty too when nothing was published yet)."""
    staging, published = settings.staging_warehouse, settings.warehouse
    staging.parent.mkdir(parents=True, exist_ok=True)
    _refuse_if_being_written(staging)
    staging.unlink(missing_ok=True)
    wal_path(staging).unlink(missing_ok=True)
    if from_published and published.exists():
        if wal_path(published).exists():
            raise PublishError(_published_wal_message(published))
        tmp = staging.with_name(f".{staging.name}.copy")
        shutil.copyfile(published, tmp)  # published files are checkpointed: the one file is the whole database
        os.replace(tmp, staging)
        return f"staging starts from a copy of {published}"
    return "staging starts empty"


@dataclass
class PublishResult:
    path: Path
    size_bytes: int
    sha256: str
    tables: list[str]  # schema main
    rows: dict[str, int]  # per table and counted view (touchline/analyst.py: is_counted), schema main
    views: int


def publish(settings: Settings) -> PublishResult:
    """Checkpoint and close the staging file, then rename it onto the published path (atomic)."""
    staging, published = settings.staging_warehouse, settings.warehouse
    if not staging.exists():
        raise PublishError(f"no staging warehouse at {staging}: dbt did not build one in this run")
    if wal_path(published).exists():
        raise PublishError(_published_wal_message(published), retryable=True)
    try:
        with duckdb.connect(str(staging)) as con:
            con.execute("checkpoint")  # everything in the one file; closing removes the log
            catalog = con.execute("select current_database()").fetchone()[0]
            relations = con.execute("select table_name, table_type from information_schema.tables where table_schema = 'main' "
                                    "order by table_name").fetchall()
            rows = {name: con.execute(f'select count(*) from main."{name}"').fetchone()[0] for name, kind in relations if is_counted(name, kind)}
            tables = sorted(name for name, kind in relations if kind == "BASE TABLE")
            views = con.execute("select count(*) from information_schema.tables where table_type = 'VIEW'").fetchone()[0]
    except duckdb.IOException as exc:
        raise PublishError(f"cannot open {staging} to checkpoint it: {str(exc).splitlines()[0]}", retryable=True) from None
    if wal_path(staging).exists():
        raise PublishError(f"{wal_path(staging)} is still there after a checkpoint and close: another process has {staging} open",
                           retryable=True)
    expected = catalog_name(published)
    if catalog != expected:  # views naming catalog "x" would stop resolving once the file is called "y"
        raise PublishError(f"{staging.name} is catalog {catalog!r} but {published.name} would be {expected!r}; "
                           "views that name the catalog would break after the rename")
    digest = file_sha256(staging, fsync=True)  # the bytes are on disk before the name points at them
    size = staging.stat().st_size
    os.replace(staging, published)
    _fsync_dir(published.parent)
    return PublishResult(published, size, digest, tables, rows, views)


def _published_wal_message(published: Path) -> str:
    return (f"{wal_path(published)} exists: a process has the published warehouse open for writing, or crashed while "
            "writing it (the pipeline never writes it). Replacing the file would pair the new database with that log. "
            "Close that process, or open the file once read-write to replay the log, then run again.")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)  # the rename itself survives a crash
    finally:
        os.close(fd)


def file_sha256(path: Path, *, fsync: bool = False) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
        if fsync:
            os.fsync(f.fileno())
    return digest.hexdigest()
