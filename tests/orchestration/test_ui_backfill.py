"""A backfill of a date range launched as the UI launches it: `dagster dev` (webserver and daemon)
on a fresh instance, a tiny landing zone, the UI's GraphQL mutation `launchPartitionBackfill` for
every asset over the landing days, and the daemon carrying it out in two runs: the ingestion of the
whole range (single-run backfill policy), then the whole warehouse, published (dbt's seeds come
after the lake, so Dagster does not build them in a run of their own beside the ingestion).

The landing sensor is on (its first tick sees an empty landing zone; the next is an hour away), so
the backfill is the only thing that builds the warehouse: nothing published before it to lean on."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.helpers import SALT
from tests.orchestration.test_ui_browser import free_port, stop_group
from tests.test_pipeline_end_to_end import tiny_landing
from touchline.settings import write_instance_config

FIRST, LAST = date(2026, 10, 1), date(2026, 10, 20)  # the tiny landing zone's first and last day
DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

LAUNCH = """mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}"""
STATUS = """query($id: String!) {
  partitionBackfillOrError(backfillId: $id) { __typename ... on PartitionBackfill { status } ... on PythonError { message } }
}"""


def graphql(url: str, query: str, variables: dict) -> dict:
    request = urllib.request.Request(f"{url}/graphql", data=json.dumps({"query": query, "variables": variables}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        pytest.fail(f"GraphQL answered {exc.code}: {exc.read().decode()[:3000]}")
    assert "errors" not in body, body
    return body["data"]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def dev(tmp_path):
    """`dagster dev` over a tiny landing zone; yields (url, data folder)."""
    data = tmp_path / "data"
    (data / "landing").mkdir(parents=True)
    home = data / "dagster"
    home.mkdir(parents=True)
    write_instance_config(home / "dagster.yaml")  # Touchline's instance: runs queue one at a time
    env = {**os.environ, "TOUCHLINE_DATA": str(data), "TOUCHLINE_LANDING": str(data / "landing"), "TOUCHLINE_SALT": SALT,
           "DAGSTER_HOME": str(home), "TOUCHLINE_RUN_DATE": (LAST + timedelta(days=1)).isoformat(),
           "TOUCHLINE_SENSOR_INTERVAL_SECONDS": "3600"}
    for name in ("TOUCHLINE_LAKE", "TOUCHLINE_WAREHOUSE", "TOUCHLINE_FULL_REFRESH"):
        env.pop(name, None)
    port = free_port()
    dagster = Path(sys.executable).with_name("dagster")
    log_path = tmp_path / "dagster-dev.log"
    log = log_path.open("w")
    process = subprocess.Popen([str(dagster), "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        # the webserver answers, and the landing sensor's first tick is done (it found nothing to do)
        while not (answers(f"{url}/server_info")
                   and f"Sensor landing_sensor skipped: no landed files in {data / 'landing'}" in log_path.read_text()):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"dagster dev did not start: {log_path.read_text()[-3000:]}")
            time.sleep(1)
        tiny_landing(data / "landing")
        yield url, data
    finally:
        stop_group(process)
        log.close()


def test_a_backfill_launched_from_the_ui_ingests_the_range_in_one_run_and_publishes(dev, monkeypatch):
    url, data = dev
    monkeypatch.setenv("TOUCHLINE_DATA", str(data))
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = sorted(k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable)
    days = [(FIRST + timedelta(days=i)).isoformat() for i in range((LAST - FIRST).days + 1)]
    launched = graphql(url, LAUNCH, {"params": {
        "assetSelection": [{"path": k.path} for k in keys], "partitionNames": days, "title": "October backfill"}})
    result = launched["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", launched
    backfill = result["backfillId"]

    deadline, status = time.monotonic() + 1200, None
    while time.monotonic() < deadline:
        status = graphql(url, STATUS, {"id": backfill})["partitionBackfillOrError"].get("status")
        if status in DONE:
            break
        time.sleep(3)
    assert status in ("COMPLETED", "COMPLETED_SUCCESS"), status

    with dg.DagsterInstance.from_config(str(data / "dagster")) as instance:
        runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill}))
        assert len(runs) == 2 and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs), [(r.run_id, r.status) for r in runs]
        ingestion = [r for r in runs if r.tags.get("dagster/asset_partition_range_start")]
        # the whole range in one run (BackfillPolicy.single_run), not one run per day
        assert [(r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"]) for r in ingestion] \
            == [(days[0], days[-1])]
        assert sorted(instance.get_materialized_partitions(dg.AssetKey(["lake", "touchpoints"]))) == days
        assert len(instance.get_runs()) == len(runs)  # nothing else ran
    # the figures the in-process run of the same landing zone gives (tests/test_pipeline_end_to_end.py)
    with duckdb.connect(str(data / "warehouse" / "touchline.duckdb"), read_only=True) as con:
        assert con.execute("select count(*), count(distinct touchpoint_id) from fct_touchpoints").fetchone() == (14, 14)
        assert con.execute("select count(*) from dim_people").fetchone() == (4,)
        assert con.execute("select count(*) from fct_ad_spend").fetchone() == (2,)
        assert con.execute("select count(*) > 0 from mart_channel_attribution").fetchone() == (True,)
    assert not (data / "warehouse" / "touchline.staging.duckdb").exists()  # published: the staging build was moved
