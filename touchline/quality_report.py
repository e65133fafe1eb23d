"""The quality report of an ingestion run: what landed per source, which files lost rows and why,
with a few examples, as JSON (for tools) and Markdown (for people), beside the warehouse.

Built from the lake the run just wrote: the run's load_log rows, the quarantine and the stray
paths of lake/_reports/ingest_latest.json. Written by the ingestion step itself, so it exists on
the nights a check stops the marts, which are the nights it is read. Examples give file, line and
reason (email addresses masked), never the raw record (it may hold personal data; it stays in the
quarantine table).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

from ingestion import storage

EXAMPLES_PER_REASON = 3
MARKDOWN_FILE_ROWS = 50

# A reason without its offending value, so that equal problems group together:
#   column 'Timestamp': 'yesterday' is not a datetime ...  ->  column 'Timestamp': <value> is not a datetime ...
#   malformed record: 3 fields, header has 6 (too few fields)  ->  malformed record: N fields, header has N (...)
_EMAIL = r"'[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+'"  # masked in reasons: a shifted column can put an email in a value
_REASON_KIND = r"""
    case
        when regexp_matches(reason, '^column ''[^'']*'': ''')
            then regexp_replace(reason, '^(column ''[^'']*''): ''(?:[^''\\]|\\.)*''', '\1: <value>')
        else regexp_replace(reason, '\d[\d,]*', 'N', 'g')
    end
"""


def build(lake: Path) -> dict:
    """The report of the latest ingestion batch in `lake`: the files it read (a night that found
    nothing new reads none), plus the files it skipped as unchanged and those no longer landed."""
    log, quarantine = storage.table_glob(lake, "load_log"), storage.table_glob(lake, "quarantine")
    latest = _latest(lake)
    with duckdb.connect() as con:
        if latest:  # the batch the JSON report describes, also when it read no file (no load_log row)
            con.execute(f"create temp table batch as select * from read_parquet('{log}', union_by_name = true) where batch_id = $batch",
                        {"batch": latest["batch_id"]})
        else:
            con.execute(f"""
                create temp table batch as
                select * from read_parquet('{log}', union_by_name = true)
                where batch_id = (select batch_id from read_parquet('{log}', union_by_name = true)
                                  order by ingested_at desc, batch_id desc limit 1)""")
        batch = con.execute("select any_value(batch_id), min(ingested_at) from batch").fetchone()
        if latest:
            batch = (latest["batch_id"], batch[1] or datetime.fromisoformat(latest["started_at"]))
        by_source = _dicts(con, """
            select source_system as source, count(*) as files, count(*) filter (where file_rejected) as files_rejected,
                   count(distinct landed_day) as landing_days, min(landed_day)::varchar as first_day, max(landed_day)::varchar as last_day,
                   sum(rows_read) as rows_read, sum(rows_loaded) as rows_loaded, sum(rows_quarantined) as rows_quarantined,
                   sum(duplicates_dropped) as duplicates_dropped
            from batch group by source_system order by source_system""")
        files = _dicts(con, """
            select source_system as source, source_file as file, landed_day::varchar as landed_day, rows_read, rows_loaded,
                   rows_quarantined, duplicates_dropped, file_rejected
            from batch where rows_quarantined > 0 or duplicates_dropped > 0 or file_rejected
            order by file_rejected desc, rows_quarantined desc, duplicates_dropped desc, source_file""")
        reasons = _dicts(con, f"""
            with q as (
                select source_system, source_file, source_line, reason, {_REASON_KIND} as kind
                from (select * replace (regexp_replace(reason, {_EMAIL}, '<email>', 'g') as reason)
                      from read_parquet('{quarantine}', union_by_name = true))
                where source_file in (select source_file from batch)
            )
            select source_system as source, kind as reason, count(*) as rows, count(distinct source_file) as files,
                   list({{'file': source_file, 'line': source_line, 'reason': reason}}
                        order by source_file, source_line)[1:{EXAMPLES_PER_REASON}] as examples
            from q group by source_system, kind order by rows desc, source_system, kind""")
    same = latest if latest and latest.get("batch_id") == batch[0] else {}
    strays = same.get("strays", [])
    missing, removed = same.get("missing", []), same.get("removed", [])
    totals = {k: sum(int(s[k]) for s in by_source) for k in ("files", "files_rejected", "rows_read", "rows_loaded",
                                                             "rows_quarantined", "duplicates_dropped")}
    return {
        "batch_id": batch[0],
        "ingested_at": batch[1].isoformat() if batch[1] is not None else None,
        "full_refresh": bool(same.get("full_refresh", False)),
        "totals": totals | {"files_skipped": len(same.get("skipped", [])), "files_missing": len(missing),
                            "files_removed": len(removed), "strays": len(strays)},
        "by_source": by_source,
        "quarantine_by_reason": reasons,
        "files_with_losses": files,
        "strays": strays,
        "missing": missing,
        "removed": removed,
    }


def _dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, (_plain(v) for v in row), strict=True)) for row in cursor.fetchall()]


def _plain(value):
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return int(value) if hasattr(value, "__index__") and not isinstance(value, bool) else value


def _latest(lake: Path) -> dict:
    """lake/_reports/ingest_latest.json (ingestion/run.py), or {} before the first run."""
    report = lake / "_reports" / "ingest_latest.json"
    return json.loads(report.read_text()) if report.exists() else {}


def to_markdown(report: dict) -> str:
    t = report["totals"]
    lines = [
        f"# Ingestion quality report, batch {report['batch_id']}",
        "",
        f"Ingested {report['ingested_at']} from {t['files']:,} files: {t['rows_read']:,} rows read = {t['rows_loaded']:,} loaded"
        f" + {t['rows_quarantined']:,} quarantined + {t['duplicates_dropped']:,} exact duplicates."
        f" {t['files_rejected']:,} files rejected whole; {t['strays']:,} stray paths.",
        "",
        (f"Full refresh: every landed file was read again; {t['files_removed']:,} files no longer in the landing zone"
         " were removed from the lake." if report.get("full_refresh") else
         f"{t['files_skipped']:,} unchanged files skipped (already in the lake from an earlier run, same bytes, contract, "
         f"code and salt); {t['files_missing']:,} files in the lake are no longer in the landing zone (kept)."),
        "",
        "Examples name the file, line and reason; the raw records are in the `quarantine` table (restricted: they may hold personal data).",
        "",
        "## By source",
        "",
        "| source | files | rejected | landing days | rows read | loaded | quarantined | duplicates |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for s in report["by_source"]:
        lines.append(f"| {s['source']} | {s['files']:,} | {s['files_rejected']:,} | {s['landing_days']} ({s['first_day']} to {s['last_day']}) "
                     f"| {s['rows_read']:,} | {s['rows_loaded']:,} | {s['rows_quarantined']:,} | {s['duplicates_dropped']:,} |")
    lines += ["", "## Quarantine by reason", ""]
    if report["quarantine_by_reason"]:
        lines += ["| source | reason | rows | files | examples |", "|---|---|---:|---:|---|"]
        for r in report["quarantine_by_reason"]:
            examples = "<br>".join(f"`{e['file']}` line {e['line']}: {_cell(e['reason'])}" for e in r["examples"])
            lines.append(f"| {r['source']} | {_cell(r['reason'])} | {r['rows']:,} | {r['files']:,} | {examples} |")
    else:
        lines.append("Nothing quarantined.")
    lines += ["", "## Files that lost rows (quarantined, duplicates, rejected)", ""]
    files = report["files_with_losses"]
    if files:
        lines += ["| file | rows read | loaded | quarantined | duplicates | rejected whole |", "|---|---:|---:|---:|---:|---|"]
        for f in files[:MARKDOWN_FILE_ROWS]:
            lines.append(f"| `{f['file']}` | {f['rows_read']:,} | {f['rows_loaded']:,} | {f['rows_quarantined']:,} | "
                         f"{f['duplicates_dropped']:,} | {'yes' if f['file_rejected'] else ''} |")
        if len(files) > MARKDOWN_FILE_ROWS:
            lines.append(f"\n... and {len(files) - MARKDOWN_FILE_ROWS:,} more files (all of them are in the JSON report).")
    else:
        lines.append("None: every row of every file was loaded.")
    if report.get("missing"):
        lines += ["", "## In the lake but no longer in the landing zone (rows kept)", "",
                  "Their rows stay in the lake and the marts. To remove them, run a full refresh (`touchline run --full-refresh`):"
                  " it rebuilds the lake from the landing zone as it is.", ""]
        lines += [f"- `{m['source_file']}`: {m['rows_loaded'] if m['rows_loaded'] is not None else 'unknown'} rows, "
                  f"read by batch {m['batch_id'] or 'unknown'}" for m in report["missing"][:MARKDOWN_FILE_ROWS]]
        if len(report["missing"]) > MARKDOWN_FILE_ROWS:
            lines.append(f"\n... and {len(report['missing']) - MARKDOWN_FILE_ROWS:,} more files (all of them are in the JSON report).")
    if report.get("removed"):
        lines += ["", "## Removed from the lake by this full refresh (no longer in the landing zone)", ""]
        lines += [f"- `{m['source_file']}`" for m in report["removed"][:MARKDOWN_FILE_ROWS]]
        if len(report["removed"]) > MARKDOWN_FILE_ROWS:
            lines.append(f"\n... and {len(report['removed']) - MARKDOWN_FILE_ROWS:,} more files (all of them are in the JSON report).")
    if report["strays"]:
        lines += ["", "## Stray paths (no contract reads them)", ""]
        lines += [f"- `{s['relative']}`: {s['reason']}" for s in report["strays"]]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def write(report: dict, folder: Path) -> dict[str, Path]:
    """`<batch>.json` and `<batch>.md`, and the same as `latest.json` / `latest.md` (each written atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    body = {"json": json.dumps(report, indent=2, default=str) + "\n", "md": to_markdown(report)}
    written = {}
    for name in (str(report["batch_id"]), "latest"):
        for ext, text in body.items():
            path = folder / f"{name}.{ext}"
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            written[f"{name}.{ext}"] = path
    return {"json": folder / "latest.json", "md": folder / "latest.md"}
