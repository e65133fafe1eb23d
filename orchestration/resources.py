"""Resources: where Touchline reads and writes, resolved by touchline/settings.py."""

from __future__ import annotations

import dagster as dg

from touchline import settings as settings_module


class TouchlineResource(dg.ConfigurableResource):
    """Gives assets the resolved settings (paths, salt) of the environment the run started in."""

    def settings(self) -> settings_module.Settings:
        return settings_module.load()
