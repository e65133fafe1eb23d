"""The nightly report: one self-contained HTML page next to the warehouse (charts as inline SVG,
no scripts, no network) with the key charts, the run's quality summary and freshness per source.
Everything shown comes from the published warehouse (marts, load_log, quarantine) and the run's
check results; raw records never appear (they may hold personal data)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
from jinja2 import Environment, PackageLoader, select_autoescape

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


@dataclass
class ReportInputs:
    """What the run knows that the warehouse does not: its checks and when it ran."""

    run_id: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def quality_summary(con: duckdb.DuckDBPyConnection) -> dict:
    """Latest ingestion per source: files, rows read / loaded / quarantined / duplicates; the
    quarantine's reasons per source and file with up to three example lines each. Read through the
    staging views over the lake, so a night whose marts were blocked still reports its own ingestion."""
    sources = _rows(con, """
        with latest as (
            select * from stg_lake__load_log
            where batch_id = (select arg_max(batch_id, ingested_at) from stg_lake__load_log)
        )
        select source_system, count(*) as files, sum(rows_read) as rows_read, sum(rows_loaded) as rows_loaded,
               sum(rows_quarantined) as rows_quarantined, sum(duplicates_dropped) as duplicates_dropped,
               count(*) filter (where file_rejected) as files_rejected, bool_and(rows_read = rows_loaded + rows_quarantined + duplicates_dropped) as balanced
        from latest group by 1 order by 1""")
    reasons = _rows(con, """
        select source_system, source_file, reason, count(*) as rows,
               list(source_line order by source_line)[1:3] as example_lines
        from stg_lake__quarantine
        where batch_id = (select arg_max(batch_id, ingested_at) from stg_lake__load_log)
        group by all order by rows desc, source_system, source_file limit 50""")
    return {"sources": sources, "reasons": reasons}


def freshness(con: duckdb.DuckDBPyConnection, today: date) -> list[dict]:
    """Newest landing day per source and its age in days on the report's date."""
    rows = _rows(con, "select source_system, max(landed_day) as newest_day, count(distinct landed_day) as days "
                      "from stg_lake__load_log group by 1 order by 1")
    for row in rows:
        newest = row["newest_day"]
        newest = date.fromisoformat(str(newest)[:10]) if newest is not None else None
        row["age_days"] = (today - newest).days if newest else None
    return rows


def render(settings: Settings, inputs: ReportInputs | None = None) -> str:
    inputs = inputs or ReportInputs()
    env = Environment(loader=PackageLoader("touchline", "templates"), autoescape=select_autoescape())
    with connect_read_only(settings) as con:
        figures = []
        for title, chart in charts.CHARTS.items():
            figure, frame = chart(con)
            figures.append({"title": title, "svg": charts.to_svg(figure), "rows": len(frame), "doc": (chart.__doc__ or "").strip()})
        quality = quality_summary(con)
        fresh = freshness(con, inputs.generated_at.date())
    return env.get_template("report.html.j2").render(
        generated_at=inputs.generated_at, run_id=inputs.run_id, checks=inputs.checks,
        failed=[c for c in inputs.checks if not c.passed], figures=figures, quality=quality, freshness=fresh,
        warehouse=settings.warehouse.name)


def write_report(settings: Settings, inputs: ReportInputs | None = None) -> Path:
    """Render and write the report next to the warehouse, atomically (never half a page)."""
    html = render(settings, inputs)
    target = settings.warehouse.parent / REPORT_NAME
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".report.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(html)
    os.replace(tmp, target)
    return target
