"""One Touchline run at a time per warehouse: DuckDB has one writer, and a second run would also
rebuild the staging file under the first one's feet.

Runs the Dagster daemon launches (schedule, sensor, UI, backfills) wait in Dagster's run queue
(`concurrency.runs.max_concurrent_runs: 1` in dagster.yaml, settings.ensure_dirs); a run started
in-process (`make run`, `touchline run`) does not go through that queue. Every run therefore also
takes this lock when its resources are set up (orchestration/resources.py) and holds it to the
end: whichever run comes second waits, saying for whom, instead of failing on the DuckDB file lock.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout


class RunLockTimeout(RuntimeError):
    """Another run held the warehouse longer than this run was willing to wait."""


class RunLock:
    def __init__(self, path: Path, *, wait_seconds: float, log: Callable[[str], None], report_every: float = 30.0):
        self.path = path
        self.holder_path = path.with_name(path.name + ".holder.json")
        self.wait_seconds = wait_seconds
        self.log = log
        self.report_every = report_every
        self._lock = FileLock(str(path))

    def acquire(self, run_id: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            self.log(f"waiting for another Touchline run to finish ({self.holder()}); lock {self.path}")
            while True:
                waited = time.monotonic() - started
                if waited >= self.wait_seconds:
                    raise RunLockTimeout(f"another Touchline run still holds {self.path} after {waited:.0f} s "
                                         f"({self.holder()}); TOUCHLINE_RUN_LOCK_WAIT_SECONDS={self.wait_seconds:g}") from None
                try:
                    self._lock.acquire(timeout=min(self.report_every, self.wait_seconds - waited))
                    break
                except Timeout:
                    self.log(f"still waiting for another Touchline run ({self.holder()}); {time.monotonic() - started:.0f} s so far")
            self.log(f"the other run finished; this run starts after waiting {time.monotonic() - started:.0f} s")
        self.holder_path.write_text(json.dumps({"run_id": run_id, "pid": os.getpid(),
                                                "since": datetime.now(UTC).isoformat(timespec="seconds")}))

    def release(self) -> None:
        if self._lock.is_locked:
            self.holder_path.unlink(missing_ok=True)
            self._lock.release(force=True)

    def holder(self) -> str:
        try:
            h = json.loads(self.holder_path.read_text())
            return f"run {h['run_id']}, process {h['pid']}, since {h['since']}"
        except (OSError, ValueError, KeyError):
            return "holder unknown"
