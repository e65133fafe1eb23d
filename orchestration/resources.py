"""Resources: where Touchline reads and writes, resolved by touchline/settings.py."""

import dagster as dg
from pydantic import PrivateAttr

from touchline import settings as settings_module
from touchline.run_lock import RunLock


class TouchlineResource(dg.ConfigurableResource):
    """Gives assets the resolved settings (paths, salt) of the environment the run started in, and
    holds the run lock (touchline/run_lock.py) from the run's start to its end: one run at a time
    writes the lake and the warehouse; a second one waits."""

    _lock: RunLock | None = PrivateAttr(default=None)

    def settings(self) -> settings_module.Settings:
        return settings_module.load()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        s = self.settings()
        log = context.log.info if context.log else print
        self._lock = RunLock(s.run_lock, wait_seconds=s.run_lock_wait_seconds, log=log)
        self._lock.acquire(context.run_id or "unknown")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()
