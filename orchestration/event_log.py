"""Dagster's SQLite event log, writing a batch of events in one transaction.

A run over a range of days records one event per day for each of the ingestion step's assets,
twice (planned when the run is created, materialized when the step ends): about 4,400 events for a
year, besides a planned event per asset check (about 180). Dagster hands such events over as batches (`DAGSTER_EVENT_BATCH_SIZE`, set by
touchline/settings.py), but its SQLite storage writes a batch event by event, each with a new
connection and two commits (the run's file and the cross-run index): about 26 ms an event here,
15.5 s of a 90-day run. This storage writes a batch with one transaction per file instead (the
run's file, the index), running the statements `SqliteEventLogStorage.store_event` runs per event.
A batch holding any other kind of event (none today) goes through the per-event path.

The instance uses it through dagster.yaml (touchline/settings.py writes the storage block), with
the folders Dagster's default SQLite storage uses, so an existing instance keeps its history.

Connections: Dagster's storage opens a new engine and connection for every write and closes it,
and the close of a WAL database's last connection checkpoints the log into the file and deletes
it: about 10 ms an asset event here (a night's dbt step records some 420 events after `dbt build`:
6.4 s). This storage keeps one open connection per database file for the shards used last (the
index and at most KEPT_SHARDS runs: the UI reads many runs) and checkpoints a run's log into its
file after each use, since Dagster's UI learns of a run's new events by watching that file: about
3 ms an event. Commits stay as durable as Dagster's (SQLite's default synchronous=FULL).
"""

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy

from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS, DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine

KEPT_SHARDS = 8  # run databases whose connection stays open, besides the index

log = logging.getLogger(__name__)


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._batch = threading.local()  # the index transaction of the batch this thread is writing
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # by shard, least recently used first
        self._engines_pid = os.getpid()
        super().__init__(*args, **kwargs)
        self._db_lock = threading.RLock()  # Dagster's Lock, re-entrant: wipe() holds it while Dagster's wipe connects

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        """Dagster's `_connect` (one transaction, under the storage's lock) on a kept connection."""
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                with conn.begin():
                    yield conn
                if shard != INDEX_SHARD_NAME:  # the UI watches the run's file, not its log
                    _checkpoint(conn, shard)

    def _engine(self, shard: str) -> Engine:
        self._forget_parent_engines()
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = sqlalchemy.create_engine(self.conn_string_for_shard(shard), pool_size=1, connect_args={
                "timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False})  # used under _db_lock only
        self._engines[shard] = engine
        runs = [name for name in self._engines if name != INDEX_SHARD_NAME]
        for name in runs[:max(0, len(runs) - KEPT_SHARDS)]:
            self._engines.pop(name).dispose()
        return engine

    def _forget_parent_engines(self) -> None:
        """In a forked child the parent's connections are not its own: neither used nor closed."""
        if self._engines_pid != os.getpid():
            for engine in self._engines.values():
                engine.dispose(close=False)
            self._engines.clear()
            self._engines_pid = os.getpid()

    def _close_connections(self) -> None:
        with self._db_lock:
            self._forget_parent_engines()
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        with self._db_lock:  # no other thread reopens a file between the close and Dagster's deletion
            self._close_connections()
            super().wipe()

    def dispose(self) -> None:
        super().dispose()  # stops the file watcher first, which reads through these connections
        self._close_connections()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]) -> "BatchedSqliteEventLogStorage":
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def index_connection(self) -> Iterator[Connection]:
        open_batch = getattr(self._batch, "connection", None)
        if open_batch is not None:  # Dagster's per-event writes called from a batch join its transaction
            yield open_batch
            return
        with super().index_connection() as conn:
            yield conn

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        if not events or len({e.run_id for e in events}) != 1 or not all(map(_batchable, events)):
            super().store_event_batch(events)
            return
        statements = [self.prepare_insert_event(e) for e in events]
        with self.run_connection(events[0].run_id) as conn:
            for statement in statements:
                conn.execute(statement)
        # Mirrored in the cross-run index, as store_event does for each asset or check event.
        asset_events, asset_event_ids = [], []
        with self.index_transaction() as conn:
            self._batch.connection = conn
            try:
                for event, statement in zip(events, statements, strict=True):
                    event_id = conn.execute(statement).inserted_primary_key[0]
                    if event.dagster_event_type in ASSET_CHECK_EVENTS:
                        self.store_asset_check_event(event, event_id)
                    else:
                        asset_events.append(event)
                        asset_event_ids.append(event_id)
                self._store_asset_event_tags(conn, asset_events, asset_event_ids)
                for event, event_id in zip(asset_events, asset_event_ids, strict=True):
                    self._store_asset_event(conn, event, event_id)
            finally:
                self._batch.connection = None


def _batchable(event: EventLogEntry) -> bool:
    """The events Dagster batches (planned materializations and checks of a run, the materializations
    of a partition range): asset events naming their asset, and planned checks."""
    if not event.is_dagster_event:
        return False
    kind = event.dagster_event_type
    return (kind in ASSET_EVENTS and event.get_dagster_event().asset_key is not None) or kind == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED


def _checkpoint(conn: Connection, shard: str) -> None:
    """The run's log into the run's file. The transaction is committed: a failed checkpoint only
    delays the UI's view of the event (until the next use of the run's file checkpoints it)."""
    try:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").close()
    except sqlalchemy.exc.DBAPIError as exc:
        log.warning("event log: checkpoint of run %s not done: %s", shard, exc)
