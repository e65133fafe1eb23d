"""Touchline's Dagster definitions: gathers the pieces and sets global policy. Read this first."""

from __future__ import annotations

import dagster as dg

from ingestion.contracts import load_contracts
from orchestration.checks import build_checks
from orchestration.dbt import dbt_resource, touchline_dbt_assets
from orchestration.jobs import build_nightly_schedule, nightly_job
from orchestration.normalize import build_normalize_asset, identity_map
from orchestration.publish import build_publish_asset
from orchestration.report import REPORT_SENSORS
from orchestration.resources import TouchlineResource
from orchestration.sensors import build_landing_sensor
from orchestration.sources import landing_specs
from touchline import settings

_settings = settings.load()
_contracts = load_contracts(*(settings.CONTRACTS_DIRS + _settings.extra_contract_dirs))

defs = dg.Definitions(
    assets=[*landing_specs(_contracts), build_normalize_asset(_contracts), identity_map, touchline_dbt_assets,
            build_publish_asset(touchline_dbt_assets)],
    asset_checks=build_checks(_contracts, touchline_dbt_assets.keys),
    jobs=[nightly_job],
    schedules=[build_nightly_schedule(_settings.schedule)],
    sensors=[*REPORT_SENSORS, build_landing_sensor(_contracts, _settings.schedule.sensor_interval_seconds)],
    resources={"touchline": TouchlineResource(), "dbt": dbt_resource()},
    # DuckDB has one writer and the graph is small: run steps in one process, one at a time.
    executor=dg.in_process_executor,
)
