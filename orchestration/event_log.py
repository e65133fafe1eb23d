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
"""

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS, DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._batch = threading.local()  # the index transaction of the batch this thread is writing
        super().__init__(*args, **kwargs)

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
