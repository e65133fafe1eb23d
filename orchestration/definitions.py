"""Touchline's Dagster definitions: gathers the pieces and sets global policy. Read this first."""

from __future__ import annotations

import dagster as dg

from ingestion.contracts import load_contracts
from orchestration.checks import build_checks
from orchestration.dbt import dbt_resource, touchline_dbt_assets
from orchestration.jobs import build_nightly_schedule, nightly_job
from orchestration.normalize import build_normalize_asset, identity_map
from orchestration.partitions import daily_partitions
from orchestration.publish import build_publish_asset
from orchestration.report import REPORT_SENSORS
from orchestration.resources import TouchlineResource
from orchestration.sensors import build_landing_sensor
from orchestration.sources import landing_specs
from touchline import settings

_settings = settings.load()
contracts = load_contracts(*(settings.CONTRACTS_DIRS + _settings.extra_contract_dirs))
daily = daily_partitions(_settings.schedule.partitions_start)  # a landing day folder is a partition (partitions.py)

defs = dg.Definitions(
    assets=[*landing_specs(contracts, daily), build_normalize_asset(contracts, daily), identity_map, touchline_dbt_assets,
            build_publish_asset(touchline_dbt_assets)],
    asset_checks=build_checks(contracts, touchline_dbt_assets.keys),
    jobs=[nightly_job],
    schedules=[build_nightly_schedule(_settings.schedule, contracts, daily)],
    sensors=[*REPORT_SENSORS, build_landing_sensor(contracts, _settings.schedule.sensor_interval_seconds, daily)],
    resources={"touchline": TouchlineResource(), "dbt": dbt_resource()},
    # DuckDB has one writer and the graph is small: run steps in one process, one at a time.
    executor=dg.in_process_executor,
)


def nightly_job_definition() -> dg.JobDefinition:
    """nightly_job, for dg.reconstructable (re-execution from failure: touchline/pipeline.py)."""
    return defs.resolve_job_def("nightly_job")
