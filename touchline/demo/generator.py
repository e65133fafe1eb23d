"""`touchline demo-data`: write a landing zone of vendor-shaped exports from simulated journeys.

People are simulated in chunks and each chunk's rows are appended to the day files, so memory
stays bounded by the chunk size whatever the number of people. The same arguments give the same
bytes. Real-export untidiness is included on purpose: mixed-case emails with spaces, each
vendor's own date format and time zone, a re-delivered file, exact duplicate rows and a few
malformed rows (which ingestion must quarantine, not drop).
"""

from __future__ import annotations

import copy
import csv
import json
import random
import shutil
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from touchline.demo import catalog as cat
from touchline.demo import vendors
from touchline.demo.journeys import Event, Person, Window, make_person, pick_channel, simulate

CHUNK_PEOPLE = 5_000
DIRT_RATE = 0.0005  # share of rows duplicated / malformed, at least one of each in the first chunk


@dataclass
class DemoSummary:
    out: Path
    people: int = 0
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    files: int = 0
    duplicates: int = 0
    malformed: int = 0
    duplicates_by_source: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    malformed_by_source: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    redelivered: list[str] = field(default_factory=list)


def generate(out: Path, *, people: int, days: int, seed: int, end: date,
             progress: Callable[[int, int], None] | None = None) -> DemoSummary:
    if people < 1 or days < 1:
        raise ValueError("--people and --days must be at least 1")
    start = end - timedelta(days=days - 1)
    window = Window(datetime.combine(start, time(), UTC).timestamp(), datetime.combine(end + timedelta(days=1), time(), UTC).timestamp())
    out.mkdir(parents=True, exist_ok=True)
    summary = DemoSummary(out)
    created: set[Path] = set()
    ad_clicks: dict[tuple[str, date], int] = defaultdict(int)
    seconds = window.end - window.start

    for chunk_start in range(0, people, CHUNK_PEOPLE):
        chunk = chunk_start // CHUNK_PEOPLE
        rng = random.Random(f"touchline-demo/{seed}/{chunk}")
        events: list[Event] = []
        queue: deque[Person] = deque()
        for i in range(chunk_start, min(people, chunk_start + CHUNK_PEOPLE)):
            arrived = window.start + rng.uniform(0, seconds * 0.97)
            queue.append(make_person(rng, str(i), pick_channel(rng), arrived))
        while queue:
            person = queue.popleft()
            summary.people += 1
            simulate(rng, person, window, events, queue)
        events.sort(key=lambda e: (e.at, e.person.index, e.kind))
        rows: dict[tuple[str, date], list[list[str]]] = defaultdict(list)
        for event in events:
            source, day, row = vendors.to_row(rng, event)
            rows[(source, day)].append(row)
            if event.kind == "ad_click":
                ad_clicks[(event.data["campaign"].campaign_id, day)] += 1
        _dirty(rng, rows, summary, force=chunk == 0)
        _append(out, rows, created, summary)
        if progress:
            progress(min(people, chunk_start + CHUNK_PEOPLE), people)

    rng = random.Random(f"touchline-demo/{seed}/ads")
    report: dict[tuple[str, date], list[list[str]]] = defaultdict(list)
    for offset in range(days):
        day = start + timedelta(days=offset)
        for campaign in cat.AD_CAMPAIGNS:
            source, row = vendors.ad_report_rows(rng, campaign, day, ad_clicks.get((campaign.campaign_id, day), 0))
            report[(source, day)].append(row)
    _append(out, report, created, summary)
    _redeliver(out, summary, start + timedelta(days=days // 2))
    summary.files = sum(1 for p in out.rglob("*") if p.is_file())
    return summary


def _dirty(rng: random.Random, rows: dict[tuple[str, date], list[list[str]]], summary: DemoSummary, force: bool) -> None:
    """Duplicate a few rows exactly and break a few others the way real exports break."""
    sources = sorted({s for s, _ in rows})
    forced = set(sources) if force else set()
    for key in sorted(rows):
        source, _ = key
        day_rows = rows[key]
        out: list[list[str]] = []
        for row in day_rows:
            out.append(row)
            r = rng.random()
            if source in forced or r < DIRT_RATE:
                forced.discard(source)
                out.append(copy.deepcopy(row))
                summary.duplicates += 1
                summary.duplicates_by_source[source] += 1
            elif r < 2 * DIRT_RATE:
                out[-1] = _break(rng, source, row)
                summary.malformed += 1
                summary.malformed_by_source[source] += 1
        if force and key == max(k for k in rows if k[0] == source) and len(out) > 1:
            out[0] = _break(rng, source, out[0])  # at least one malformed row per source
            summary.malformed += 1
            summary.malformed_by_source[source] += 1
        rows[key] = out


def _break(rng: random.Random, source: str, row: list[str] | dict) -> list[str] | dict | str:
    kind = rng.choice(("truncate", "date", "number"))
    if source in vendors.JSONL_SOURCES:
        if kind == "truncate":
            return json.dumps(row)[:40]  # the line was cut: not JSON any more
        return row | {vendors.TIMESTAMP_COLUMNS[source]: rng.choice(("yesterday", "2026-02-30T10:00:00+00:00"))}
    header = vendors.HEADERS[source]
    if kind == "truncate":
        return row[: max(1, len(row) // 2)]  # the export was cut mid-line
    broken = list(row)
    number = vendors.NUMBER_COLUMNS.get(source)
    if kind == "number" and number:
        broken[header.index(number)] = rng.choice(("N/A", "12,5O", "—"))
    else:
        broken[header.index(vendors.TIMESTAMP_COLUMNS[source])] = rng.choice(("31/12/2026 25:61", "yesterday", "2026-02-30 10:00:00"))
    return broken


def _append(out: Path, rows: dict[tuple[str, date], list[list[str]]], created: set[Path], summary: DemoSummary) -> None:
    for (source, day), day_rows in sorted(rows.items()):
        path = out / source / day.isoformat() / vendors.FILE_NAMES[source]
        new = path not in created
        if new:
            path.parent.mkdir(parents=True, exist_ok=True)
            created.add(path)
        with path.open("w" if new else "a", newline="", encoding="utf-8") as f:
            if source in vendors.JSONL_SOURCES:
                f.writelines((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in day_rows)
                summary.rows[source] += len(day_rows)
                continue
            if new and source == "google_ads_campaign_day":
                f.write("Campaign performance report\n")
                f.write(f"{day:%B %-d, %Y} - {day:%B %-d, %Y}\n")
            writer = csv.writer(f, lineterminator="\n")
            if new:
                writer.writerow(vendors.HEADERS[source])
                if source in vendors.SECOND_HEADER:
                    writer.writerow(vendors.SECOND_HEADER[source])
            writer.writerows(day_rows)
        summary.rows[source] += len(day_rows)


def _redeliver(out: Path, summary: DemoSummary, day: date) -> None:
    """Shopify sent the same day's export twice: ingestion must not double the orders."""
    original = out / "shopify_orders" / day.isoformat() / vendors.FILE_NAMES["shopify_orders"]
    if original.exists():
        copy = original.with_name("orders_export_1.csv")
        shutil.copyfile(original, copy)
        summary.redelivered.append(copy.relative_to(out).as_posix())
        with copy.open(newline="", encoding="utf-8") as f:
            summary.rows["shopify_orders"] += sum(1 for _ in csv.reader(f)) - 1
