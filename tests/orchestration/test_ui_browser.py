"""The Dagster UI in a real (headless) browser: the asset graph loads and shows the marts."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.test_notebooks import ARTIFACTS, chromium

MARTS = ["mart_stage_funnel", "mart_channel_attribution", "mart_referral_program", "dim_people"]


def stop_group(process: subprocess.Popen, timeout: float = 30) -> None:
    """End a server started with start_new_session=True, with everything it started (SIGTERM, then SIGKILL)."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webserver(tmp_path):
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "TOUCHLINE_DATA": str(tmp_path / "data")}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    webserver = Path(sys.executable).with_name("dagster-webserver")
    # its own session: `dagster` started from a non-interactive shell may ignore SIGTERM; kill the group
    process = subprocess.Popen([str(webserver), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None:
                pytest.fail(f"dagster-webserver exited: {process.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("dagster-webserver did not answer within 120 s")
            time.sleep(1)
        yield url
    finally:
        stop_group(process)


def test_asset_graph_shows_the_marts_in_a_browser(webserver):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        # the marts group's lineage graph in the code location (module) the definitions load from
        group = f"{webserver}/locations/orchestration.definitions/asset-groups/marts"
        page.goto(group, wait_until="networkidle")
        try:  # a first visit gets Dagster's newsletter dialog over the graph
            page.get_by_role("button", name="Skip").click(timeout=15_000)
        except Exception:  # noqa: BLE001 - no dialog this time
            pass
        # the graph draws only the nodes in view: some marts are there, with their lineage edges
        page.get_by_text("dim_people", exact=True).first.wait_for(timeout=60_000)
        assert page.locator("svg path").count() > 10
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dagster-asset-graph.png"))
        # the group's list view names every mart
        page.goto(f"{group}/list", wait_until="networkidle")
        for mart in MARTS:
            page.get_by_text(mart, exact=True).first.wait_for(timeout=60_000)
        browser.close()
