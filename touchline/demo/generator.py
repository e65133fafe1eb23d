"""`touchline demo-data`: write a landing zone of vendor-shaped exports from simulated journeys.

People are simulated in chunks of CHUNK_PEOPLE, each from its own seeded RNG, so chunks are
independent: worker processes simulate and render them while this one appends each chunk's rows
to the day files in chunk order. Memory stays bounded by the chunks in flight whatever the number
of people, and the same arguments give the same bytes whatever the number of workers. Real-export untidiness is included on purpose: mixed-case emails with spaces, each
vendor's own date format and time zone, a re-delivered file, exact duplicate rows and a few
malformed rows (which ingestion must quarantine, not drop).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import multiprocessing
import os
import random
import shutil
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from operator import attrgetter
from pathlib import Path

from touchline.demo import catalog as cat
from touchline.demo import vendors
from touchline.ordered import in_order
from touchline.demo.journeys import Event, Person, Window, make_person, pick_channel, simulate

CHUNK_PEOPLE = 5_000
IN_FLIGHT_PER_WORKER = 2  # chunks simulated ahead of the one being appended, per worker
FLUSH_BYTES = 32 * 2**20  # rendered rows held before they are appended (fewer, larger appends)
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
             progress: Callable[[int, int], None] | None = None, workers: int | None = None) -> DemoSummary:
    """Write the landing zone; `workers` processes (default: one per core) simulate the chunks,
    which are appended in chunk order, so the bytes do not depend on the number of workers."""
    if people < 1 or days < 1:
        raise ValueError("--people and --days must be at least 1")
    start = end - timedelta(days=days - 1)
    window = Window(datetime.combine(start, time(), UTC).timestamp(), datetime.combine(end + timedelta(days=1), time(), UTC).timestamp())
    out.mkdir(parents=True, exist_ok=True)
    summary = DemoSummary(out)
    landing = _Landing(out, summary)
    ad_clicks: dict[tuple[str, date], int] = defaultdict(int)
    size = CHUNK_PEOPLE  # read here, passed to the workers
    simulate_one = partial(simulate_chunk, size=size, people=people, seed=seed, window=window)
    for chunk in _in_order(simulate_one, range(-(-people // size)), workers or _cores()):
        summary.people += chunk.people
        for key, clicks in chunk.ad_clicks.items():
            ad_clicks[key] += clicks
        for source, n in chunk.duplicates_by_source.items():
            summary.duplicates += n
            summary.duplicates_by_source[source] += n
        for source, n in chunk.malformed_by_source.items():
            summary.malformed += n
            summary.malformed_by_source[source] += n
        landing.add(chunk.files)
        if progress:
            progress(min(people, (chunk.index + 1) * size), people)

    rng = random.Random(f"touchline-demo/{seed}/ads")
    report: dict[tuple[str, date], list[list[str]]] = defaultdict(list)
    for offset in range(days):
        day = start + timedelta(days=offset)
        for campaign in cat.AD_CAMPAIGNS:
            source, row = vendors.ad_report_rows(rng, campaign, day, ad_clicks.get((campaign.campaign_id, day), 0))
            report[(source, day)].append(row)
    landing.add({key: (_render(key[0], rows), len(rows)) for key, rows in report.items()})
    landing.flush()
    _redeliver(out, summary, start + timedelta(days=days // 2))
    summary.files = sum(1 for p in out.rglob("*") if p.is_file())
    return summary


@dataclass
class Chunk:
    """What one chunk of people adds to the landing zone: each day file's rendered rows and counts."""
    index: int
    people: int = 0
    files: dict[tuple[str, date], tuple[bytes, int]] = field(default_factory=dict)
    ad_clicks: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
    duplicates_by_source: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    malformed_by_source: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def simulate_chunk(index: int, *, size: int, people: int, seed: int, window: Window) -> Chunk:
    """People index * size to (index + 1) * size - 1 and the friends they invite, from the chunk's own RNG."""
    rng = random.Random(f"touchline-demo/{seed}/{index}")
    chunk = Chunk(index)
    events: list[Event] = []
    queue: deque[Person] = deque()
    seconds = window.end - window.start
    for i in range(index * size, min(people, (index + 1) * size)):
        # Arrivals until the window's last day: ad clicks come at arrival, and a stream that ended
        # days early looked like a collapsed ad_clicks day to the volume check at 365 days.
        arrived = window.start + rng.uniform(0, seconds)
        queue.append(make_person(rng, str(i), pick_channel(rng), arrived))
    while queue:
        chunk.people += 1
        simulate(rng, queue.popleft(), window, events, queue)
    events.sort(key=attrgetter("at"))  # stable: equal times keep the simulation's order
    rows: dict[tuple[str, date], list] = defaultdict(list)
    for event in events:
        source, day, row = vendors.to_row(rng, event)
        rows[(source, day)].append(row)
        if event.kind == "ad_click":
            chunk.ad_clicks[(event.data["campaign"].campaign_id, day)] += 1
    _dirty(rng, rows, chunk, force=index == 0)
    chunk.files = {key: (_render(key[0], day_rows), len(day_rows)) for key, day_rows in rows.items()}
    return chunk


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _in_order(fn: Callable[[int], Chunk], indexes: range, workers: int) -> Iterator[Chunk]:
    """fn(i) for each index, in order; with workers > 1 computed by that many processes, at most
    IN_FLIGHT_PER_WORKER chunks each ahead of the one being written (memory stays bounded)."""
    if workers < 2 or len(indexes) < 2:
        yield from map(fn, indexes)
        return
    # spawn, not fork: the caller may have threads (Dagster, the CLI's progress bar)
    with ProcessPoolExecutor(min(workers, len(indexes)), mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from in_order(pool, fn, indexes, ahead=IN_FLIGHT_PER_WORKER * workers)


def _dirty(rng: random.Random, rows: dict[tuple[str, date], list], chunk: Chunk, force: bool) -> None:
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
                chunk.duplicates_by_source[source] += 1
            elif r < 2 * DIRT_RATE:
                out[-1] = _break(rng, source, row)
                chunk.malformed_by_source[source] += 1
        if force and key == max(k for k in rows if k[0] == source) and len(out) > 1:
            out[0] = _break(rng, source, out[0])  # at least one malformed row per source
            chunk.malformed_by_source[source] += 1
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


class _Landing:
    """Appends rendered rows to the day files in the order they are added, buffering up to
    FLUSH_BYTES so that each file is opened once per few chunks, not once per chunk."""

    def __init__(self, out: Path, summary: DemoSummary):
        self.out, self.summary = out, summary
        self.created: set[Path] = set()
        self.pending: dict[tuple[str, date], list[bytes]] = defaultdict(list)
        self.size = 0

    def add(self, files: dict[tuple[str, date], tuple[bytes, int]]) -> None:
        for (source, day), (data, rows) in files.items():
            self.pending[(source, day)].append(data)
            self.size += len(data)
            self.summary.rows[source] += rows
        if self.size >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        for (source, day), blocks in sorted(self.pending.items()):
            path = self.out / source / day.isoformat() / vendors.FILE_NAMES[source]
            new = path not in self.created
            if new:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.created.add(path)
            with path.open("wb" if new else "ab") as f:
                if new:
                    f.write(_preamble(source, day))
                f.writelines(blocks)
        self.pending.clear()
        self.size = 0


def _preamble(source: str, day: date) -> bytes:
    """What a new file starts with: the header (CSV), and the lines some vendors put above it."""
    if source in vendors.JSONL_SOURCES:
        return b""
    lines = [vendors.HEADERS[source], *([vendors.SECOND_HEADER[source]] if source in vendors.SECOND_HEADER else [])]
    title = f"Campaign performance report\n{day:%B %-d, %Y} - {day:%B %-d, %Y}\n" if source == "google_ads_campaign_day" else ""
    return (title + "".join(map(_csv_line, lines))).encode()


def _render(source: str, rows: list) -> bytes:
    """The rows as the source's file holds them: CSV lines, or JSON lines (a broken one is a str)."""
    if source in vendors.JSONL_SOURCES:
        return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows).encode()
    text = "\n".join(map(",".join, rows)) + "\n"  # as csv.writer would write it if no field needs quotes:
    if ('"' not in text and "\r" not in text and text.count("\n") == len(rows) and min(map(len, rows), default=0) > 1
            and text.count(",") == sum(map(len, rows)) - len(rows)):
        return text.encode()
    return "".join(map(_csv_line, rows)).encode()


def _csv_line(row: list[str]) -> str:
    """The row as csv.writer writes it (minimal quoting, "\n" line ends); joined directly when no
    field needs quotes, which is nearly always and five times as fast."""
    line = ",".join(row)
    if len(row) > 1 and line.count(",") == len(row) - 1 and '"' not in line and "\n" not in line and "\r" not in line:
        return line + "\n"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


def _redeliver(out: Path, summary: DemoSummary, day: date) -> None:
    """Shopify sent the same day's export twice: ingestion must not double the orders."""
    original = out / "shopify_orders" / day.isoformat() / vendors.FILE_NAMES["shopify_orders"]
    if original.exists():
        copy = original.with_name("orders_export_1.csv")
        shutil.copyfile(original, copy)
        summary.redelivered.append(copy.relative_to(out).as_posix())
        with copy.open(newline="", encoding="utf-8") as f:
            summary.rows["shopify_orders"] += sum(1 for _ in csv.reader(f)) - 1
