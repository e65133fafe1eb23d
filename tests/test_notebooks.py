"""The analyst notebooks run top to bottom against a freshly built demo warehouse, and draw."""

from datetime import date
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.test_pipeline_end_to_end import use_dirs

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory):
    from touchline.demo.generator import generate
    from touchline.pipeline import run_pipeline

    data = tmp_path_factory.mktemp("demo")
    generate(data / "landing", people=400, days=75, seed=5, end=date(2026, 10, 31))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TOUCHLINE_RUN_DATE", "2026-11-01")  # the day after the demo's last day: every source is fresh
        s = use_dirs(mp, data)
        outcome = run_pipeline(s)
        assert outcome.success, [c.description for c in outcome.failed_checks]
        yield s


def test_notebooks_are_kept_without_outputs():
    assert len(NOTEBOOKS) >= 5
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        stale = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert stale == [], f"{path.name}: clear the outputs of cells {stale} before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_draws(path, demo_warehouse, monkeypatch):
    notebook = nbformat.read(path, as_version=4)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    images = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    tables = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if "text/html" in o.get("data", {})]
    assert images, f"{path.name} drew no chart"
    assert tables, f"{path.name} showed no table"
    empty = [o["data"]["text/plain"] for c in notebook.cells if c.cell_type == "code" for o in c.outputs
             if "Empty DataFrame" in o.get("data", {}).get("text/plain", "")]
    assert empty == [], f"{path.name} shows an empty result: {empty}"


ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"


def chromium() -> str:
    import os
    import shutil

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("no chromium on this machine (apt-get install chromium); CI runs this test")
    return found


def test_nightly_report_renders_offline_with_its_charts(demo_warehouse):
    """The pipeline wrote report.html next to the warehouse; headless Chromium, with every
    network request refused, shows every chart drawn and the quality tables."""
    from playwright.sync_api import sync_playwright

    from touchline.charts import CHARTS

    report = demo_warehouse.warehouse.parent / "report.html"
    assert report.exists()
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.route("**/*", lambda route: (requests.append(route.request.url), route.abort() if not route.request.url.startswith("file:") else route.continue_()))
        page.goto(report.as_uri())
        charts = page.locator("figure.chart svg")
        assert charts.count() == len(CHARTS)
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 300 and box["height"] > 150, f"chart {i} is not drawn: {box}"
            assert charts.nth(i).locator("path").count() > 10  # axes, bars, lines: something was plotted
        assert "Ingestion (latest run)" in page.inner_text("body")
        summary = page.locator("#checks + p").inner_text()  # e.g. "148 passed, 1 failed."
        failed = int(summary.split(", ")[1].split()[0])
        assert int(summary.split()[0]) > 50
        # a failed check on a published night can only be a warning (the demo's sparse sources go stale)
        severities = page.locator("#checks ~ table").first.locator("tr td:nth-child(2)").all_inner_texts() if failed else []
        assert len(severities) == failed and set(severities) <= {"WARN"}
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "nightly-report.png"), full_page=True)
        browser.close()
    assert [u for u in requests if not u.startswith("file:")] == []  # self-contained: nothing fetched


@pytest.mark.parametrize("layer", ["lake", "marts"])
def test_great_expectations_data_docs_render_offline(layer, demo_warehouse):
    """The night's GX Data Docs open in headless Chromium with every network request refused:
    styled (Bootstrap from the site's own copy), scripts running (jQuery, the results table), and
    a validation page names the suite's expectations."""
    from playwright.sync_api import sync_playwright

    site = demo_warehouse.gx_docs_dir / layer
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.route("**/*", lambda route: (requests.append(route.request.url), route.abort() if not route.request.url.startswith("file:") else route.continue_()))
        page.goto((site / "index.html").as_uri())
        assert page.evaluate("typeof window.jQuery") == "function"
        assert "-apple-system" in page.evaluate("getComputedStyle(document.body).fontFamily")  # Bootstrap's, not the browser default
        rows = page.locator("table tbody tr")
        suites = {"lake": ["touchpoints", "ad_spend", "ads", "email", "crm", "survey"],
                  "marts": ["fct_ad_spend_rules", "dim_people_rules", "mart_stage_funnel_rules"]}[layer]
        text = page.inner_text("body")
        assert rows.count() >= len(suites) and all(name in text for name in suites), text[:500]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"gx-data-docs-{layer}.png"))
        validation = next(site.glob(f"validations/{suites[-1]}/**/*.html"))
        page.goto(validation.as_uri())
        assert "Expectation" in page.inner_text("body") and page.locator("table").count() >= 1
        browser.close()
    assert [u for u in requests if not u.startswith("file:")] == []


def test_report_escapes_what_came_from_the_data(demo_warehouse):
    """Check descriptions and quarantine reasons carry landed values and file names: never markup."""
    from touchline.report import CheckResult, ReportInputs, render

    html = render(demo_warehouse, ReportInputs(checks=[CheckResult("lake/x:y", False, "ERROR", 'e.g. ["<img src=x onerror=alert(1)>"]')]))
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<svg") >= 7  # the charts' own markup stays markup
