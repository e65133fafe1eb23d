"""The nightly report: one self-contained HTML page next to the warehouse (charts as inline SVG,
no scripts, no network) with the key charts, the run's quality summary and freshness per source.
Charts come from the published warehouse's marts; the ingestion section is the run's quality report
(touchline/quality_report.py) and freshness uses the landing_freshness check's rule
(expectations/landing_health.py), both read from the lake, so a blocked night shows its own
ingestion. Raw records never appear (they may hold personal data)."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader

from touchline import charts
from touchline.analyst import connect_read_only
from touchline.settings import Settings

REPORT_NAME = "report.html"


@dataclass
class CheckResult:
    name: str
    passed: bool
    severity: str = "ERROR"
    description: str = ""


def check_result(evaluation) -> CheckResult:
    """A Dagster AssetCheckEvaluation as the report shows it."""
    return CheckResult(evaluation.asset_check_key.to_user_string(), evaluation.passed,
                       evaluation.severity.value, evaluation.description or "")


def step_failure(step_key: str) -> CheckResult:
    """A failed step of the run, shown among the checks."""
    return CheckResult(f"step {step_key}", False, "ERROR", "the step failed; see the Dagster run")


@dataclass
class ReportInputs:
    """What the run knows that the warehouse does not: its checks and when it ran."""

    run_id: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _ingestion(settings: Settings) -> dict | None:
    """The quality report the latest ingestion step wrote (touchline/quality_report.py, before the
    checks, so a night whose marts were blocked still shows its own ingestion); None before any."""
    latest = settings.quality_reports_dir / "latest.json"
    return json.loads(latest.read_text()) if latest.exists() else None


def _freshness(settings: Settings, today: date) -> list[dict]:
    """Newest landing day per source against the freshness threshold of the landing_freshness check."""
    from expectations.landing_health import as_rows, freshness_verdicts

    return as_rows(freshness_verdicts(settings.lake, as_of=today, max_age_days=settings.quality.freshness_max_age_days))


def render(settings: Settings, inputs: ReportInputs | None = None) -> str:
    inputs = inputs or ReportInputs()
    # escape everything (the template is .j2, which select_autoescape would not escape): check
    # descriptions and reasons carry landed values and file names
    env = Environment(loader=PackageLoader("touchline", "templates"), autoescape=True)
    with connect_read_only(settings) as con:
        figures = []
        for title, chart in charts.CHARTS.items():
            figure, frame = chart(con)
            figures.append({"title": title, "svg": charts.to_svg(figure), "rows": len(frame), "doc": (chart.__doc__ or "").strip()})
    quality = _ingestion(settings)
    fresh = _freshness(settings, settings.quality.run_date or inputs.generated_at.date())
    return env.get_template("report.html.j2").render(
        generated_at=inputs.generated_at, run_id=inputs.run_id, checks=inputs.checks,
        failed=[c for c in inputs.checks if not c.passed], figures=figures, quality=quality, freshness=fresh,
        max_age_days=settings.quality.freshness_max_age_days, warehouse=settings.warehouse.name)


def write_report(settings: Settings, inputs: ReportInputs | None = None) -> Path:
    """Render and write the report next to the warehouse, atomically (never half a page)."""
    html = render(settings, inputs)
    target = settings.warehouse.parent / REPORT_NAME
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".report.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(html)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; analysts may read it as another user
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
