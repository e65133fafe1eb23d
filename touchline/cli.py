"""The `touchline` command: demo-data, run, codegen, query, marts, report, bench, ui."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from touchline import settings as settings_module

app = typer.Typer(help="Touchline: customer-journey analytics from vendor exports.", no_args_is_help=True, add_completion=False)
console = Console()
err = Console(stderr=True)

DEMO_PEOPLE, DEMO_DAYS, DEMO_SEED = 3000, 90, 7


def _settings() -> settings_module.Settings:
    try:
        return settings_module.load()
    except settings_module.SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option(help="Landing zone folder to write.")] = Path("data/landing"),
    people: Annotated[int, typer.Option(min=1, help="People to simulate (invited friends come on top).")] = DEMO_PEOPLE,
    days: Annotated[int, typer.Option(min=1, help="Days of history, ending at --end.")] = DEMO_DAYS,
    seed: Annotated[int, typer.Option(help="Random seed: same arguments, same bytes.")] = DEMO_SEED,
    end: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD); default yesterday (UTC).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes simulating people; default one per core (same bytes).")] = None,
) -> None:
    """Write a landing zone of vendor-shaped exports simulated from customer journeys."""
    from touchline.demo.generator import generate

    end_day = date.fromisoformat(end) if end else _yesterday()
    with _progress() as progress:
        task = progress.add_task("simulating people", total=people)
        last_line = [0]

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done)
            if not err.is_terminal and (done - last_line[0] >= total / 10 or done == total):
                err.print(f"demo-data: {done:,}/{total:,} people simulated")  # a log, not a bar, when piped
                last_line[0] = done

        summary = generate(out, people=people, days=days, seed=seed, end=end_day, progress=advance, workers=workers)
    console.print(f"Wrote {summary.files} files for {summary.people} people ({days} days to {end_day}) to {out}")
    for source, rows in sorted(summary.rows.items()):
        console.print(f"  {source:<26} {rows:>10,} rows")
    console.print(f"  untidy on purpose: {summary.duplicates} duplicate rows, {summary.malformed} malformed rows, "
                  f"re-delivered {summary.redelivered}")


@app.command()
def codegen() -> None:
    """Rewrite the dbt files generated from ingestion/schema.py and the journey mappings."""
    from touchline import codegen as gen

    changed = gen.write()
    console.print("\n".join(f"wrote {p}" for p in changed) or "generated dbt files are up to date")


@app.command("data-docs-assets")
def data_docs_assets() -> None:
    """Download (once, from the npm registry, checksums pinned) the scripts and styles the Great
    Expectations Data Docs load, so the docs the pipeline writes open without a network."""
    from expectations.data_docs import DataDocsError, fetch_assets

    cache = _settings().data_docs_assets
    try:
        fetched = fetch_assets(cache)
    except DataDocsError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Data Docs assets in {cache}" + (f" ({len(fetched)} packages downloaded)" if fetched else " (already there)"))


@app.command()
def run(
    full_refresh: Annotated[bool, typer.Option(
        "--full-refresh", help="Read every landed file again (not only new or changed ones), remove from the lake "
                               "the files no longer in the landing zone, and rebuild the warehouse from scratch. "
                               "Same as TOUCHLINE_FULL_REFRESH=1.")] = False,
    first: Annotated[str | None, typer.Option(
        "--from", help="Backfill: first landing day (YYYY-MM-DD) of the run's daily partitions. "
                       "Default: the first day with landed files.", show_default=False)] = None,
    last: Annotated[str | None, typer.Option(
        "--to", help="Backfill: last landing day of the run (default: --from if given, else the last day with landed files).",
        show_default=False)] = None,
) -> None:
    """Run every asset through Dagster into the DuckDB warehouse and print a summary.

    One run covers a range of landing days (daily partitions): by default every day of the landing
    zone; `--from/--to` backfills a date range in one run (the files of those days that changed are
    read again, the warehouse is built once)."""
    s = _settings()
    days = _backfill_days(s, first, last)
    s.ensure_dirs()
    s.export()
    if s.local_landing is None:
        _check_object_store_landing(s)
    elif not s.landing_configured and not any(s.landing.iterdir()):
        console.print(f"No TOUCHLINE_LANDING set and {s.landing} is empty: writing demo exports there first.")
        demo_data(out=s.landing, people=DEMO_PEOPLE, days=DEMO_DAYS, seed=DEMO_SEED, end=None, workers=None)
    elif not s.landing.exists():
        err.print(f"[red]Landing zone {s.landing} does not exist (TOUCHLINE_LANDING).[/red]")
        raise typer.Exit(2)

    from ingestion.contracts import ContractError
    from ingestion.landing_zone import LandingZoneError
    from touchline.pipeline import run_pipeline

    console.print(f"Running the pipeline: landing {s.landing} -> warehouse {s.warehouse}")
    try:
        outcome = run_pipeline(s, full_refresh=full_refresh, days=days, rebuild_days=days is not None)
    except (ContractError, LandingZoneError) as exc:
        err.print(f"[red]Cannot run: {exc}[/red]")
        raise typer.Exit(2) from None
    outcome.print(console)
    raise typer.Exit(0 if outcome.success else 1)


def _backfill_days(s: settings_module.Settings, first: str | None, last: str | None):
    """--from/--to as a range of daily partitions, or None (the whole landing zone); exit 2 naming the problem."""
    if first is None and last is None:
        return None
    if first is None:
        err.print("[red]--to needs --from (the first day of the range)[/red]")
        raise typer.Exit(2)
    from datetime import date

    from orchestration.partitions import bounds, daily_partitions

    try:
        days = date.fromisoformat(first), date.fromisoformat(last or first)
    except ValueError:
        err.print(f"[red]--from {first!r} / --to {last!r}: a day is YYYY-MM-DD[/red]")
        raise typer.Exit(2) from None
    low, high = bounds(daily_partitions(s.schedule.partitions_start))
    if days[0] > days[1]:
        err.print(f"[red]--from {days[0]} is after --to {days[1]}[/red]")
        raise typer.Exit(2)
    if days[0] < low or days[1] > high:
        err.print(f"[red]{days[0]} to {days[1]} is outside the daily partitions {low} to {high} "
                  "(the first one is TOUCHLINE_PARTITIONS_START; the last is tomorrow)[/red]")
        raise typer.Exit(2)
    return days


@app.command()
def rerun(run_id: Annotated[str, typer.Argument(help="The id of a failed run of nightly_job (the run summary and the UI show it).")]) -> None:
    """Re-execute a failed run from its failed steps, as the UI's "Re-execute from failure" does: what
    succeeded is not run again; the run's days and full refresh are kept."""
    s = _settings()
    from touchline.pipeline import RerunError, rerun_from_failure

    try:
        outcome = rerun_from_failure(s, run_id)
    except RerunError as exc:
        err.print(f"[red]Cannot re-execute: {exc}[/red]")
        raise typer.Exit(2) from None
    outcome.print(console)
    raise typer.Exit(0 if outcome.success else 1)


def _check_object_store_landing(s: settings_module.Settings) -> None:
    """Before starting Dagster: the bucket is there, the credentials work, the prefix holds something."""
    from ingestion.landing_zone import LandingZoneError, open_zone

    try:
        found = open_zone(s.landing).exists()
    except LandingZoneError as exc:
        err.print(f"[red]Cannot run: {exc}[/red]")
        raise typer.Exit(2) from None
    if not found:
        err.print(f"[red]Landing zone {s.landing} (TOUCHLINE_LANDING) holds no objects: is the prefix right?[/red]")
        raise typer.Exit(2)


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="A read-only SQL statement over the warehouse.")],
    fmt: Annotated[str, typer.Option("--format", help="table, csv or parquet.")] = "table",
    out: Annotated[Path | None, typer.Option(help="File for csv/parquet output (csv without it goes to stdout).")] = None,
    limit: Annotated[int, typer.Option(help="Rows shown in table format.")] = 50,
) -> None:
    """Query the warehouse read-only: a table on the terminal, or CSV / Parquet."""
    import csv

    from touchline.analyst import QueryError, export_query, run_query

    s = _settings()
    if fmt not in ("table", "csv", "parquet"):
        err.print(f"[red]--format must be table, csv or parquet, not {fmt!r}[/red]")
        raise typer.Exit(2)
    try:
        if out is not None and fmt in ("csv", "parquet"):
            rows = export_query(s, sql, out, fmt)
            err.print(f"wrote {rows:,} rows to {out}")
            return
        if fmt == "parquet":
            err.print("[red]--format parquet needs --out FILE[/red]")
            raise typer.Exit(2)
        columns, rows = run_query(s, sql)
    except QueryError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return
    table = Table(*columns, show_edge=False)
    for row in rows[:limit]:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    console.print(f"{len(rows):,} rows" + (f" (first {limit} shown; --format csv for all)" if len(rows) > limit else ""))


@app.command()
def marts() -> None:
    """Each mart with its rows, last build time and description."""
    from touchline.analyst import QueryError, list_marts

    try:
        infos = list_marts(_settings())
    except QueryError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    table = Table("table", "rows", "built (UTC)", "description", show_edge=False)
    for m in infos:
        table.add_row(m.name, f"{m.rows:,}", m.built_at.strftime("%Y-%m-%d %H:%M") if m.built_at else "-", m.description.split(". ")[0][:100])
    console.print(table)


@app.command()
def report() -> None:
    """Write the HTML report (charts, ingestion quality, freshness) next to the warehouse."""
    from touchline.analyst import QueryError
    from touchline.report import write_report

    try:
        path = write_report(settings_module.load())
    except QueryError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(f"wrote {path}")


@app.command()
def bench(
    people: Annotated[str, typer.Option(help="Scales: people to simulate, comma-separated (one landing zone each).")] = "3000,30000",
    days: Annotated[int, typer.Option(min=1, help="Days of history per scale; one more day is generated and landed as the next night.")] = DEMO_DAYS,
    seed: Annotated[int, typer.Option(help="Random seed of the demo generator.")] = DEMO_SEED,
    end: Annotated[str | None, typer.Option(help="Last day of history (YYYY-MM-DD); default: the next night is yesterday (UTC).")] = None,
    results: Annotated[Path | None, typer.Option(help="Folder for the JSON and Markdown reports; default bench/results.")] = None,
    work: Annotated[Path | None, typer.Option(help="Folder for each scale's landing zone, lake, warehouse and logs; default bench/work.")] = None,
    keep_data: Annotated[bool, typer.Option(help="Keep each scale's landing zone, lake and warehouse (logs are always kept).")] = False,
    note: Annotated[str, typer.Option(help="A line for the report, e.g. what else was running on the machine.")] = "",
) -> None:
    """Benchmark: generate landing zones, then time a full rebuild and one more night per scale."""
    from touchline import bench as bench_module

    try:
        scales = [int(p.replace("_", "")) for p in people.split(",") if p.strip()]
    except ValueError:
        err.print(f"[red]--people must be comma-separated numbers, not {people!r}[/red]")
        raise typer.Exit(2) from None
    if not scales or min(scales) < 1:
        err.print("[red]--people needs at least one number >= 1[/red]")
        raise typer.Exit(2)
    config = bench_module.BenchConfig(people=scales, days=days, seed=seed, end=date.fromisoformat(end) if end else None,
                                      keep_data=keep_data, note=note)
    if results:
        config.results = results.resolve()
    if work:
        config.work = work.resolve()

    def log(line: str) -> None:
        err.print(f"[{datetime.now():%H:%M:%S}] {line}", markup=False, highlight=False, soft_wrap=True)

    report, json_path, md_path = bench_module.run(config, log)
    console.print(bench_module.markdown(report), markup=False, highlight=False, soft_wrap=True)
    console.print(f"Wrote {json_path} and {md_path}", soft_wrap=True)
    failed = [f"{s['label']}: {r['label']}" for s in report["scales"] for r in s["runs"] if not r["success"]]
    if failed:
        err.print(f"[red]Pipeline runs failed (their figures are in the report, marked FAILED): {', '.join(failed)}[/red]")
        raise typer.Exit(1)


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 3000,
) -> None:
    """Start the Dagster UI (asset graph, runs, reruns, backfills) on localhost."""
    import os

    s = _settings()
    s.ensure_dirs()
    s.export()
    dagster = Path(sys.executable).with_name("dagster")
    console.print(f"Dagster UI on http://127.0.0.1:{port} (DAGSTER_HOME={s.dagster_home}); Ctrl-C stops it.")
    os.execv(dagster, [str(dagster), "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)])


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=not err.is_terminal, disable=not err.is_terminal)


def main() -> None:
    """The `touchline` command. Ends the process without interpreter teardown once everything is
    written and flushed and the exit handlers ran: duckdb-python's nanobind bindings otherwise print
    pages of benign "leaked instance" warnings at teardown after a pipeline run, burying the summary."""
    import atexit
    import os

    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    atexit._run_exitfuncs()  # logging, multiprocessing and other clean-ups, as a normal exit would
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
