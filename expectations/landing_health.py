"""Did every source deliver, and deliver enough? Volume band and freshness per source (contract),
computed from the lake's load_log (one row per landed file and ingestion run: ingestion/run.py).

Plain DuckDB SQL, not Great Expectations: both checks compare groups with each other (a source's
newest landing day against its own previous days; each source's newest day against the run
date). GX expectations judge the rows or columns of one batch; here that would mean computing the
per-source aggregates in SQL anyway and handing GX a finished number to compare with a threshold,
which adds GX's start-up and loses the source names the messages need. The row-level contracts of
the same data stay in GX (expectations/suites.py).

Both read what the lake holds now, one row per landed file: the ingest state
(lake/_state/ingested.parquet, ingestion/state.py), which ingestion rewrites after every run. A
night that reads only its new files still judges every source and day, a re-delivered file counts
with its new row count, and a file that left the landing zone counts as long as its rows are in
the lake (ingestion keeps them unless a full refresh removes them). A lake written before that
state existed is judged on its latest load_log batch (then the whole landing zone).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import duckdb

from ingestion import state, storage

MIN_HISTORY_DAYS = 3  # a source's newest day is judged against at least this many earlier landing days

_NEWEST_DAYS = """
with current_files as (
    {current}
),

by_day as (
    select source_system, landed_day, sum(rows_loaded) as rows_loaded, count(*) as files
    from current_files
    group by source_system, landed_day
),

ranked as (
    select *, row_number() over (partition by source_system order by landed_day desc) as day_rank
    from by_day
)

select
    newest.source_system,
    newest.landed_day,
    newest.rows_loaded,
    newest.files,
    count(prior.landed_day) as trailing_days,
    avg(prior.rows_loaded) as trailing_average
from ranked as newest
left join ranked as prior
    on prior.source_system = newest.source_system and prior.day_rank between 2 and $trailing + 1
where newest.day_rank = 1
group by newest.source_system, newest.landed_day, newest.rows_loaded, newest.files
order by newest.source_system
"""


def _current_files(lake: Path) -> str:
    """SQL for one row per file in the lake with source_system, landed_day and rows_loaded."""
    path = state.state_path(lake)
    if path.exists():
        return f"select source_system, landed_day, rows_loaded from read_parquet('{_sql_string(path.as_posix())}')"
    glob = _sql_string(storage.table_glob(lake, "load_log"))
    return f"""select source_system, landed_day, rows_loaded from read_parquet('{glob}', union_by_name = true)
    where batch_id = (select batch_id from read_parquet('{glob}', union_by_name = true)
                      order by ingested_at desc, batch_id desc limit 1)"""


def _sql_string(text: str) -> str:
    return text.replace("'", "''")


@dataclass
class SourceDay:
    """A source's newest landing day and the landing days before it."""

    source: str
    day: date
    rows: int
    files: int
    trailing_days: int
    trailing_average: float | None


def newest_days(lake: Path, trailing_days: int) -> list[SourceDay]:
    """Per source: rows loaded on its newest landing day, and the average of up to `trailing_days` landing days before it."""
    with duckdb.connect() as con:
        rows = con.execute(_NEWEST_DAYS.format(current=_current_files(lake)), {"trailing": trailing_days}).fetchall()
    return [SourceDay(source, day, int(n), files, prior, float(avg) if avg is not None else None)
            for source, day, n, files, prior, avg in rows]


@dataclass
class VolumeVerdict:
    source: str
    day: str
    rows: int
    trailing_days: int
    trailing_average: float | None
    percent: float | None  # rows as a percentage of the trailing average
    status: str  # "ok", "collapsed" or "not judged"
    reason: str

    def describe(self) -> str:
        return (f"{self.source} {self.day}: {self.rows} rows loaded, {self.percent:.1f}% of the average of the "
                f"{self.trailing_days} landing days before ({self.trailing_average:.1f})")


def volume_verdicts(lake: Path, *, trailing_days: int, min_percent: float, min_rows: float) -> list[VolumeVerdict]:
    """The newest landing day of each source against the average of its previous landing days.

    Below `min_percent` of that average is a collapse (a silent half-empty export). Not judged:
    a source with fewer than MIN_HISTORY_DAYS earlier landing days (nothing to compare with), or
    one averaging fewer than `min_rows` rows a day (a day of 2 instead of 8 is within ordinary
    variation for it, and such a source cannot hide much volume anyway)."""
    out = []
    for s in newest_days(lake, trailing_days):
        percent = 100.0 * s.rows / s.trailing_average if s.trailing_average else None
        if s.trailing_days < MIN_HISTORY_DAYS:
            status, reason = "not judged", f"only {s.trailing_days} earlier landing days (needs {MIN_HISTORY_DAYS})"
        elif s.trailing_average < min_rows:
            status, reason = "not judged", f"averages {s.trailing_average:.1f} rows a day, fewer than {min_rows:g}"
        elif percent < min_percent:
            status, reason = "collapsed", f"below {min_percent:g}% of the trailing average"
        else:
            status, reason = "ok", f"at least {min_percent:g}% of the trailing average"
        out.append(VolumeVerdict(s.source, s.day.isoformat(), s.rows, s.trailing_days,
                                 round(s.trailing_average, 2) if s.trailing_average is not None else None,
                                 round(percent, 2) if percent is not None else None, status, reason))
    return out


@dataclass
class FreshnessVerdict:
    source: str
    newest_day: str
    age_days: int
    stale: bool

    def describe(self) -> str:
        return f"{self.source} (newest landing day {self.newest_day}, {self.age_days} days old)"


def freshness_verdicts(lake: Path, *, as_of: date, max_age_days: int) -> list[FreshnessVerdict]:
    """Each source that has ever delivered: its newest landing day, stale when older than `max_age_days`
    on `as_of`. Contracts with no file at all are not listed: a contract is a format Touchline can
    read, not a promise that the business uses that vendor."""
    return [FreshnessVerdict(s.source, s.day.isoformat(), (as_of - s.day).days, (as_of - s.day).days > max_age_days)
            for s in newest_days(lake, 1)]


def as_rows(verdicts: list) -> list[dict]:
    return [asdict(v) for v in verdicts]
