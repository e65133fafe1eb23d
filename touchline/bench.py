"""`touchline bench` (`make bench`): how long the nightly pipeline takes and how much memory it needs.

For each scale (a number of people simulated over a number of days):

1. generate: the demo generator writes `days + 1` days of exports in one simulation; the last
   day is held back as "the next night" (so its people, ids and volume continue the history
   exactly). Time, rows, files and bytes are reported separately from the pipeline.
2. raw-scan floor: DuckDB reads every landed export once (all columns as text, every value
   hashed so nothing is skipped) on the very files the pipeline run then reads.
3. full rebuild: `run_pipeline` (the Dagster nightly_job, in-process, as `make run` does) in a
   child process on an empty lake, warehouse and Dagster instance. The peak RSS of the child and
   all its descendants (dbt runs as a subprocess) is sampled every 0.2 s; CPU time comes from
   wait4(). Wall time per stage comes from the run's Dagster event log.
4. one more night: the held-back day lands, the floor is measured again, and the pipeline runs
   again on the same lake, warehouse and instance, as the nightly schedule's tick the next
   morning requests it (touchline/pipeline.py: run_scheduled; the new day's partition).
   Ingestion reads only the night's new files (the others are skipped as unchanged:
   ingestion/state.py); dbt builds incrementally: the facts and the person-level models of the
   people the night touched; the marts are rebuilt (README: Incremental dbt builds).

Stages (they add up to the wall time of the child process):
  startup           process start -> first event of the Dagster run: interpreter, imports,
                    Dagster definitions, dbt manifest check
  ingestion         step normalize_exports (Polars: every landed file -> lake parquet)
  identity          step lake__identity_map
  checks            the blocking asset-check steps (Great Expectations suites, rows accounted for)
  dbt               step touchline_dbt_assets (dbt build: models and dbt tests; dagster-dbt)
  publish / other   steps named *publish*, and any other step (none today)
  Dagster overhead  run wall (first to last event) minus the steps: run creation, planning,
                    event writes between steps
  report + exit     last event -> process exit: mart row counts, the HTML report, interpreter exit
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo
from importlib import metadata
from pathlib import Path
from typing import Any

from touchline import settings as settings_module

GiB = 2**30
MiB = 2**20
MARKER = ".touchline-bench"  # a work folder the bench created and may delete

STAGES = ("startup", "ingestion", "identity", "checks", "dbt", "publish", "other_steps", "dagster_overhead", "report_exit")
STAGE_LABELS = {
    "startup": "startup", "ingestion": "ingestion", "identity": "identity", "checks": "checks", "dbt": "dbt",
    "publish": "publish", "other_steps": "other steps", "dagster_overhead": "Dagster overhead", "report_exit": "report + exit",
}
STEP_STAGES = {"normalize_exports": "ingestion", "lake__identity_map": "identity", "touchline_dbt_assets": "dbt"}
PACKAGES = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "polars", "pyarrow", "great-expectations", "psutil")

# The targets (issue 9). Scale-specific ones apply to the measured scale nearest their size.
TARGET_ROWS_10M, TARGET_ROWS_100M = 10_000_000, 100_000_000
TIME_EXPONENT_LIMIT = math.log(12) / math.log(10)  # "10x data at most 12x time", for any data ratio


Log = Callable[[str], None]


# --------------------------------------------------------------------------------------------
# Memory: peak RSS of a process tree


def _label(proc: Any, root_pid: int) -> str:
    """A short name for a process of the tree: 'pipeline' for the child itself, else the script or
    program it runs (dbt runs as `python .../bin/dbt build`)."""
    if proc.pid == root_pid:
        return "pipeline"
    try:
        cmd = proc.cmdline()
    except Exception:  # noqa: BLE001 - gone or not ours: any name will do
        return "?"
    if not cmd:
        return "?"
    program = Path(cmd[0]).name
    if not program.startswith("python"):
        return program
    for i, arg in enumerate(cmd[1:], start=1):
        if arg == "-c":
            return "python -c"
        if arg == "-m":
            return f"python -m {cmd[i + 1] if i + 1 < len(cmd) else ''}".strip()
        if not arg.startswith("-"):
            return Path(arg).name  # a script: dbt, dagster, ...
    return program


class TreeRssSampler:
    """Samples the summed RSS of a process and all its descendants every `interval` seconds.

    RSS counts shared pages (libraries, copy-on-write) once per process, so the sum can exceed
    what the tree really uses; it is what `ps` and the issue's budget mean by memory."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        import psutil

        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []  # (time.time(), bytes)
        self.peak = 0
        self.peak_at: float | None = None
        self.peak_by_process: dict[str, int] = defaultdict(int)
        self._root = psutil.Process(pid)
        self._labels: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"rss-{pid}", daemon=True)

    @property
    def current(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def start(self) -> TreeRssSampler:
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> int | None:
        import psutil

        try:
            procs = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return None  # the child has exited
        total = 0
        by_label: dict[str, int] = defaultdict(int)
        for proc in procs:
            try:
                rss = proc.memory_info().rss
            except psutil.Error:
                continue  # exited between listing and reading
            if proc.pid not in self._labels:
                self._labels[proc.pid] = _label(proc, self.pid)
            total += rss
            by_label[self._labels[proc.pid]] += rss
        now = time.time()
        self.samples.append((now, total))
        if total > self.peak:
            self.peak, self.peak_at = total, now
        for label, rss in by_label.items():
            self.peak_by_process[label] = max(self.peak_by_process[label], rss)
        return total

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if self.sample() is None:
                return


# --------------------------------------------------------------------------------------------
# The pipeline in a child process


@dataclass
class ChildRun:
    started: float
    ended: float
    returncode: int
    cpu_seconds: float
    peak_rss: int
    peak_rss_at: float | None
    peak_by_process: dict[str, int]
    samples: list[tuple[float, int]]
    result: dict
    log: Path

    @property
    def wall(self) -> float:
        return self.ended - self.started


def run_child(args: list[str], env: dict[str, str] | None, log_path: Path, result_path: Path, *, interval: float = 0.2,
              heartbeat: float = 15.0, label: str = "", log: Log | None = None) -> ChildRun:
    """Run `python -m touchline.bench child ...` style commands, sampling the tree's RSS, and
    read the JSON the child leaves at `result_path` ({} if it left none)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.unlink(missing_ok=True)
    with log_path.open("wb") as out:
        started = time.time()
        proc = subprocess.Popen([sys.executable, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                cwd=settings_module.REPO_ROOT, start_new_session=True)
        sampler = TreeRssSampler(proc.pid, interval).start()
        next_beat = started + heartbeat
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                ended = time.time()
                break
            time.sleep(0.05)
            if log and time.time() >= next_beat:
                next_beat += heartbeat
                log(f"  {label} {time.time() - started:5.0f} s  RSS {_gib(sampler.current)} (peak {_gib(sampler.peak)})"
                    f"  {_last_log_line(log_path)}")
        sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4 above
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    return ChildRun(started, ended, proc.returncode, usage.ru_utime + usage.ru_stime, sampler.peak, sampler.peak_at,
                    dict(sampler.peak_by_process), sampler.samples, result, log_path)


def _last_log_line(path: Path, max_chars: int = 110) -> str:
    """The last Dagster log message of a child's log, without the date/run-id prefix."""
    try:
        with path.open("rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 8192))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if " - dagster - " in line:
            parts = line.split(" - ")
            message = " - ".join(parts[6:]) if len(parts) > 6 else parts[-1]
            return message.strip()[:max_chars]
    return ""


def _child_main(result_path: Path, tick: str | None = None) -> int:
    """In the child: one pipeline run with the environment's settings, results as JSON. Without
    `tick`: `touchline run` (every landed day). With `tick` (ISO time): the run the nightly
    schedule requests at that time (the new day's partition, and any earlier day with new files)."""
    entered = time.time()
    out: dict[str, Any] = {"entered": entered}
    try:
        from touchline.pipeline import run_pipeline, run_scheduled

        s = settings_module.load()
        outcome = run_scheduled(s, datetime.fromisoformat(tick)) if tick else run_pipeline(s)
        out |= {
            "returned": time.time(),
            "run_id": outcome.run_id,
            "success": outcome.success,
            "failed_steps": outcome.failed_steps,
            "failed_checks": [f"{c.name} ({c.severity})" for c in outcome.failed_checks],
            "checks": len(outcome.checks),
            "skipped_assets": outcome.skipped_assets,
            "mart_rows": outcome.mart_rows,
            "ingest_totals": outcome.ingest_totals,
        }
    except Exception:  # noqa: BLE001 - reported by the parent
        out |= {"success": False, "error": traceback.format_exc()}
    result_path.write_text(json.dumps(out, indent=2))
    return 0 if out["success"] else 1


# --------------------------------------------------------------------------------------------
# Stages from the Dagster event log


def event_entries(dagster_home: Path, run_id: str) -> list[Any]:
    """Every event log entry of the run, in order."""
    import dagster as dg

    entries = []
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        cursor = None
        while True:
            conn = instance.get_records_for_run(run_id, cursor=cursor, limit=5000)
            entries.extend(r.event_log_entry for r in conn.records)
            if not conn.has_more:
                return entries
            cursor = conn.cursor


def _event_type(entry: Any) -> str | None:
    return entry.dagster_event.event_type_value if entry.dagster_event else None


def _metadata_value(value: Any) -> Any:
    return getattr(value, "value", value)


def stages_from_events(entries: Iterable[Any]) -> dict[str, Any]:
    """Per step: first start to last end (retries included) and its stage; the run's first and
    last event; dbt node times (sum of dbt's own per-node durations, 2 threads) when present."""
    entries = list(entries)
    if not entries:
        raise ValueError("no events for the run")
    steps: dict[str, dict[str, Any]] = {}
    emitted: dict[str, set[str]] = defaultdict(set)
    dbt_nodes: list[dict[str, Any]] = []
    dbt_commands: list[dict[str, Any]] = []
    for e in entries:
        kind, key = _event_type(e), e.step_key
        if key:
            emitted[key].add(kind or "LOG")
        if kind == "STEP_START":
            step = steps.setdefault(key, {"key": key, "start": e.timestamp, "end": None, "status": "started", "attempts": 0})
            step["attempts"] += 1
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED") and key:
            step = steps.setdefault(key, {"key": key, "start": e.timestamp, "end": None, "status": "", "attempts": 0})
            step["end"], step["status"] = e.timestamp, kind.removeprefix("STEP_").lower()
        elif kind in ("ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION"):
            data = e.dagster_event.event_specific_data
            md = data.materialization.metadata if kind == "ASSET_MATERIALIZATION" else (data.metadata or {})
            if "Execution Duration" in md and "unique_id" in md:
                dbt_nodes.append({"node": str(_metadata_value(md["unique_id"])), "kind": "model" if kind == "ASSET_MATERIALIZATION" else "test",
                                  "seconds": float(_metadata_value(md["Execution Duration"]))})
        elif kind is None and e.user_message:
            if e.user_message.startswith("Running dbt command"):
                dbt_commands.append({"command": _dbt_subcommand(e.user_message), "start": e.timestamp})
            elif e.user_message.startswith("Finished dbt command") and dbt_commands:
                dbt_commands[-1]["seconds"] = e.timestamp - dbt_commands[-1].pop("start")
    run_start, run_end = entries[0].timestamp, entries[-1].timestamp
    for step in steps.values():
        step["end"] = step["end"] or run_end  # a step cut short by the run's end
        step["seconds"] = step["end"] - step["start"]
        step["stage"] = _stage_of_step(step["key"], emitted[step["key"]])
    dbt: dict[str, Any] = {}
    if dbt_nodes:
        dbt = {
            "model_seconds": sum(n["seconds"] for n in dbt_nodes if n["kind"] == "model"),
            "test_seconds": sum(n["seconds"] for n in dbt_nodes if n["kind"] == "test"),
            "models": sum(1 for n in dbt_nodes if n["kind"] == "model"),
            "tests": sum(1 for n in dbt_nodes if n["kind"] == "test"),
            "slowest": sorted(dbt_nodes, key=lambda n: -n["seconds"])[:8],
        }
    finished = [c for c in dbt_commands if "seconds" in c]
    if finished:
        dbt["commands"] = finished
    return {"run_start": run_start, "run_end": run_end, "steps": sorted(steps.values(), key=lambda s: s["start"]), "dbt": dbt}


def _dbt_subcommand(message: str) -> str:
    """'dbt build' from "Running dbt command: `/venv/bin/dbt build --vars {...}`."."""
    words = message.partition("`")[2].split()
    words = words[1:] if words else []  # the dbt executable
    return " ".join(["dbt", *itertools.takewhile(lambda w: not w.startswith("-"), words)])


def _stage_of_step(key: str, emitted: set[str]) -> str:
    if key in STEP_STAGES:
        return STEP_STAGES[key]
    if "publish" in key:
        return "publish"
    if "ASSET_CHECK_EVALUATION" in emitted and "ASSET_MATERIALIZATION" not in emitted:
        return "checks"  # an asset-check step: evaluates, materializes nothing
    return "other_steps"


def breakdown(started: float, ended: float, events: dict[str, Any], samples: list[tuple[float, int]] = ()) -> dict[str, Any]:
    """Seconds per stage (adding up to ended - started) and the peak RSS sampled in each stage."""
    intervals: list[tuple[float, float, str]] = [(started, events["run_start"], "startup")]
    intervals += [(s["start"], s["end"], s["stage"]) for s in events["steps"]]
    intervals.append((events["run_end"], ended, "report_exit"))
    seconds = dict.fromkeys(STAGES, 0.0)
    for lo, hi, stage in intervals:
        seconds[stage] += max(0.0, hi - lo)
    step_total = sum(s["seconds"] for s in events["steps"])
    seconds["dagster_overhead"] = max(0.0, events["run_end"] - events["run_start"] - step_total)
    peaks = dict.fromkeys(STAGES, 0)
    for t, rss in samples:
        stage = next((st for lo, hi, st in intervals if lo <= t <= hi), "dagster_overhead")
        peaks[stage] = max(peaks[stage], rss)
    return {"seconds": seconds, "peak_rss": {k: v for k, v in peaks.items() if v}}


# --------------------------------------------------------------------------------------------
# Raw-scan floor: DuckDB reads every export of the landing zone once


def raw_scan(landing: Path, repeats: int = 2) -> dict[str, Any]:
    """Read every file the pipeline would read (same discovery, same contracts) with DuckDB, each
    file once per pass, and hash every value, so no column is skipped.

    CSV: the contract's delimiter and skipped lines, all columns as text, named from each file's
    header line (read before the clock starts); DuckDB's type sniffer is off, since sniffing each
    small file costs more than reading it. Short rows (cut mid-line) are read and counted, a
    second header record (SurveyMonkey) is not counted. JSON lines: each line parsed as a JSON
    object (not flattened); a line that is not JSON counts as read, as in the pipeline.

    A floor is a best case: the fastest of `repeats` passes is kept (all are reported)."""
    import duckdb

    from ingestion.contracts import load_contracts
    from ingestion.landing import discover

    contracts = load_contracts(*settings_module.CONTRACTS_DIRS)
    files, _ = discover(landing, contracts)
    groups: dict[tuple[str, tuple[str, ...]], list[Path]] = defaultdict(list)  # (source, header) -> files
    for f in files:
        spec = contracts[f.source].file
        path = landing / f.relative  # bench landing zones are local folders it generated
        groups[(f.source, _csv_header(path, spec) if spec.format == "csv" else ())].append(path)
    passes = [_scan_pass(duckdb, contracts, groups) for _ in range(max(1, repeats))]
    best = min(passes, key=lambda p: p["seconds"])
    return best | {"files": len(files), "bytes": sum(f.size for f in files),
                   "passes_seconds": [p["seconds"] for p in passes]}


def _scan_pass(duckdb: Any, contracts: dict[str, Any], groups: dict[tuple[str, tuple[str, ...]], list[Path]]) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": 0, "by_source": {}}
    started = time.perf_counter()
    with duckdb.connect() as con:
        for (source, header), paths in sorted(groups.items()):
            spec = contracts[source].file
            t = time.perf_counter()
            params: dict[str, Any] = {"files": [str(p) for p in paths]}
            if spec.format == "jsonl":
                sql = "select count(*), bit_xor(hash(json)) from read_ndjson_objects($files, ignore_errors = true)"
            else:
                columns = "{" + ", ".join(f"{_sql_string(c)}: 'VARCHAR'" for c in _unique(header)) + "}"
                sql = (f"select count(*), bit_xor(hash(t)) from read_csv($files, header = true, skip = $skip, delim = $delim, "
                       f"quote = '\"', escape = '\"', auto_detect = false, columns = {columns}, null_padding = true, "
                       "strict_mode = false) t")
                params |= {"skip": spec.skip_lines, "delim": spec.delimiter}
            rows = con.execute(sql, params).fetchone()[0] - spec.skip_records_after_header * len(paths)
            agg = out["by_source"].setdefault(source, {"files": 0, "rows": 0, "seconds": 0.0})
            agg["files"] += len(paths)
            agg["rows"] += rows
            agg["seconds"] += time.perf_counter() - t
            out["rows"] += rows
    out["seconds"] = time.perf_counter() - started
    out["rows_per_second"] = out["rows"] / out["seconds"] if out["seconds"] else None
    out["by_source"] = dict(sorted(out["by_source"].items()))
    return out


def _csv_header(path: Path, spec: Any) -> tuple[str, ...]:
    with path.open(encoding=spec.encoding, errors="replace", newline="") as f:
        for _ in range(spec.skip_lines):
            f.readline()
        return tuple(next(csv.reader(f, delimiter=spec.delimiter), []))


def _unique(names: Iterable[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names):
        name = name or f"column{i}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------------------------
# Landing zones


def _tree_size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
    return len(files), sum(p.stat().st_size for p in files)


def generate_landing(landing: Path, night: Path, *, people: int, days: int, seed: int, end: date, log: Log) -> dict[str, Any]:
    """`days` of history ending at `end` in `landing`, and the day after in `night` (held back).

    Both come from one simulation of days + 1 days, so the night continues the history (same
    people, no clashing ids, a typical day's volume). The generator cannot append a day to an
    existing landing zone: a second call re-simulates people 0..n under the same ids."""
    from touchline.demo.generator import generate

    night_day = end + timedelta(days=1)
    reported = [0]

    def progress(done: int, total: int) -> None:
        if done - reported[0] >= total / 5 or done == total:
            reported[0] = done
            log(f"  generate: {done:,}/{total:,} people simulated ({time.perf_counter() - t0:.0f} s)")

    t0 = time.perf_counter()
    summary = generate(landing, people=people, days=days + 1, seed=seed, end=night_day, progress=progress)
    seconds = time.perf_counter() - t0
    held_back = 0
    for day_dir in sorted(landing.glob(f"*/{night_day.isoformat()}")):
        target = night / day_dir.parent.name / day_dir.name
        target.parent.mkdir(parents=True, exist_ok=True)
        day_dir.rename(target)
        held_back += 1
    history_files, history_bytes = _tree_size(landing)
    night_files, night_bytes = _tree_size(night)
    rows = sum(summary.rows.values())
    return {
        "seconds": seconds, "people_simulated": summary.people, "rows": rows,
        "rows_per_second": rows / seconds if seconds else None,
        "files": summary.files, "bytes": history_bytes + night_bytes,
        "history": {"days": days, "first_day": (end - timedelta(days=days - 1)).isoformat(), "last_day": end.isoformat(),
                    "files": history_files, "bytes": history_bytes},
        "night": {"day": night_day.isoformat(), "files": night_files, "bytes": night_bytes, "sources": held_back},
        "rows_by_source": dict(sorted(summary.rows.items())),
    }


def land_night(night: Path, landing: Path) -> None:
    for day_dir in sorted(night.glob("*/*")):
        target = landing / day_dir.parent.name / day_dir.name
        target.parent.mkdir(parents=True, exist_ok=True)
        day_dir.rename(target)


# --------------------------------------------------------------------------------------------
# Machine


def machine_info() -> dict[str, Any]:
    import psutil

    cpu_model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "host": socket.gethostname(),
        "os": platform.platform(),
        "cpu_model": cpu_model,
        "cores_logical": psutil.cpu_count(logical=True),
        "cores_physical": psutil.cpu_count(logical=False),
        "ram_bytes": psutil.virtual_memory().total,
        "python": platform.python_version(),
        "packages": versions,
        "git": _git(),
        "load_average_at_start": os.getloadavg(),
    }


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=settings_module.REPO_ROOT, capture_output=True, text=True, check=False).stdout.strip()

    return {"commit": git("rev-parse", "HEAD") or None, "branch": git("rev-parse", "--abbrev-ref", "HEAD") or None,
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


# --------------------------------------------------------------------------------------------
# The bench


@dataclass
class BenchConfig:
    people: list[int]
    days: int = 90
    seed: int = 7
    end: date | None = None  # last day of history; default: the night is yesterday (UTC)
    results: Path = settings_module.REPO_ROOT / "bench" / "results"
    work: Path = settings_module.REPO_ROOT / "bench" / "work"
    keep_data: bool = False
    interval: float = 0.2
    heartbeat: float = 15.0
    note: str = ""

    def history_end(self) -> date:
        return self.end or (datetime.now(UTC).date() - timedelta(days=2))


def _fresh_dir(path: Path) -> Path:
    if path.exists():
        if not (path / MARKER).exists():
            raise RuntimeError(f"{path} exists and was not made by touchline bench; not deleting it")
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / MARKER).write_text("made by touchline bench; deleted by the next bench of this scale\n")
    return path


def _pipeline_run(kind: str, label: str, data_dir: Path, logs: Path, config: BenchConfig, log: Log,
                  tick: datetime | None = None) -> dict[str, Any]:
    s = settings_module.load({"TOUCHLINE_DATA": str(data_dir)})
    floor = raw_scan(s.landing)
    log(f"  {label}: raw-scan floor {floor['rows']:,} rows, {len(floor['by_source'])} sources, {floor['files']} files, "
        f"{_mb(floor['bytes'])} in {floor['seconds']:.2f} s ({_rate(floor['rows_per_second'])})")
    log(f"  {label}: pipeline in a child process (log: {_rel(logs / f'{kind}.log')})")
    load_before = os.getloadavg()
    child = run_child(["-m", "touchline.bench", "child", str(logs / f"{kind}.json"), *([tick.isoformat()] if tick else [])],
                      settings_module.isolated_env(data_dir),
                      logs / f"{kind}.log", logs / f"{kind}.json", interval=config.interval, heartbeat=config.heartbeat,
                      label=label, log=log)
    result = child.result
    run: dict[str, Any] = {
        "kind": kind, "label": label, "success": bool(result.get("success")) and child.returncode == 0,
        "returncode": child.returncode, "run_id": result.get("run_id"), "error": result.get("error"),
        "failed_steps": result.get("failed_steps", []), "failed_checks": result.get("failed_checks", []),
        "checks": result.get("checks"), "skipped_assets": result.get("skipped_assets", []),
        "ingest_totals": result.get("ingest_totals", {}), "fct_touchpoints": result.get("mart_rows", {}).get("fct_touchpoints"),
        "wall_seconds": child.wall, "cpu_seconds": child.cpu_seconds,
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "peak_rss_bytes": child.peak_rss, "peak_rss_by_process": child.peak_by_process,
        "floor": floor, "log": str(child.log),
        "rss_samples_mib": [[round(t - child.started, 2), round(rss / MiB, 1)] for t, rss in child.samples],
    }
    rows = run["ingest_totals"].get("rows_read")
    run["rows_read"] = rows
    run["rows_per_second"] = rows / child.wall if rows else None
    if run["run_id"]:
        events = stages_from_events(event_entries(s.dagster_home, run["run_id"]))
        parts = breakdown(child.started, child.ended, events, child.samples)
        run["stages"] = parts["seconds"]
        run["peak_rss_by_stage"] = parts["peak_rss"]
        run["peak_rss_stage"] = max(parts["peak_rss"], key=parts["peak_rss"].get) if parts["peak_rss"] else None
        run["steps"] = [{k: v for k, v in st.items() if k not in ("start", "end")} for st in events["steps"]]
        run["dbt"] = events["dbt"]
        seconds = run["stages"].get("ingestion")
        run["ingestion_rows_per_second"] = rows / seconds if rows and seconds else None
    status = "OK" if run["success"] else "FAILED " + "; ".join(run["failed_steps"] + run["failed_checks"] + ([run["error"].splitlines()[-1]] if run["error"] else []))
    log(f"  {label}: {child.wall:.1f} s wall, {child.cpu_seconds:.1f} s CPU, peak RSS {_gib(child.peak_rss)}, "
        f"{rows or 0:,} rows read -> {_rate(run['rows_per_second'])}; {status}")
    if "stages" in run:
        log("    " + ", ".join(f"{STAGE_LABELS[k]} {v:.1f} s" for k, v in run["stages"].items() if v >= 0.05))
    return run


def schedule_tick(s: settings_module.Settings, night_day: str) -> datetime:
    """A tick of the nightly schedule whose "yesterday" is `night_day`: 02:00 the next day in the
    schedule's time zone."""
    return datetime.combine(date.fromisoformat(night_day) + timedelta(days=1), dt_time(2), ZoneInfo(s.schedule.timezone))


def run_scale(people: int, config: BenchConfig, log: Log) -> dict[str, Any]:
    days, end = config.days, config.history_end()
    root = _fresh_dir(config.work / f"{people}p-{days}d")
    data_dir, night, logs = root / "data", root / "night", root / "logs"
    s = settings_module.load({"TOUCHLINE_DATA": str(data_dir)})
    label = f"{people:,} people x {days} days"
    log(f"[{label}] generating {days} days to {end} + the next night into {_rel(root)}")
    gen = generate_landing(s.landing, night, people=people, days=days, seed=config.seed, end=end, log=log)
    log(f"  generate: {gen['rows']:,} rows, {gen['files']} files, {_mb(gen['bytes'])} in {gen['seconds']:.1f} s "
        f"({_rate(gen['rows_per_second'])}); night {gen['night']['day']} held back: {gen['night']['files']} files")
    scale: dict[str, Any] = {"label": label, "people": people, "days": days, "seed": config.seed, "generation": gen, "runs": []}
    scale["runs"].append(_pipeline_run("full", "full rebuild", data_dir, logs, config, log))
    land_night(night, s.landing)
    scale["runs"].append(_pipeline_run("night", "next night", data_dir, logs, config, log, tick=schedule_tick(s, gen["night"]["day"])))
    if not config.keep_data:
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(night, ignore_errors=True)
    return scale


def warm_up(config: BenchConfig, log: Log) -> dict[str, Any]:
    """Parse the dbt project if stale, once, outside the measurements (and warm the file cache)."""
    root = _fresh_dir(config.work / "warm-up")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "import orchestration.dbt"], env=settings_module.isolated_env(root / "data"),
                          cwd=settings_module.REPO_ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t
    if proc.returncode:
        raise RuntimeError(f"warm-up (dbt parse) failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    shutil.rmtree(root, ignore_errors=True)
    log(f"warm-up: imports + dbt manifest check/parse in {seconds:.1f} s (not measured)")
    return {"seconds": seconds}


def run(config: BenchConfig, log: Log = print) -> tuple[dict[str, Any], Path, Path]:
    started = datetime.now(UTC)
    machine = machine_info()
    log(f"touchline bench: scales {', '.join(f'{p:,}' for p in config.people)} people x {config.days} days on {machine['host']} "
        f"({machine['cores_logical']} cores, {_gib(machine['ram_bytes'])} RAM, load {machine['load_average_at_start'][0]:.2f})")
    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"), "machine": machine, "note": config.note,
        "config": {"people": config.people, "days": config.days, "seed": config.seed, "history_end": config.history_end().isoformat(),
                   "rss_sample_interval_seconds": config.interval},
        "warm_up": warm_up(config, log), "scales": [],
    }
    for people in config.people:
        report["scales"].append(run_scale(people, config, log))
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["machine"]["load_average_at_end"] = os.getloadavg()
    report["targets"] = evaluate_targets(report["scales"])
    json_path, md_path = write_report(report, config.results)
    return report, json_path, md_path


# --------------------------------------------------------------------------------------------
# Targets and the report


def _distance(rows: int, target: int) -> float:
    """How far `rows` is from `target`, as a factor (log scale)."""
    return abs(math.log(rows / target))


def _near(rows: int, target: int) -> bool:
    """Within a factor 1.5 of `target`: close enough to count as measured at that scale."""
    return _distance(rows, target) <= math.log(1.5)


def _nearest(scales: list[dict], rows: int, kind: str = "full") -> dict | None:
    """The measured run nearest `rows` rows read, if within a factor 1.5 of it."""
    runs = [r for s in scales for r in s["runs"] if r["kind"] == kind and r.get("rows_read")]
    best = min(runs, key=lambda r: _distance(r["rows_read"], rows), default=None)
    return best if best and _near(best["rows_read"], rows) else None


def _failure(run: dict) -> str:
    """What failed in a run: its failed steps and checks, else the last line of its error."""
    error_lines = (run.get("error") or "").strip().splitlines()
    return "; ".join(run["failed_steps"] + run["failed_checks"]) or (error_lines[-1] if error_lines else "the run")


def time_went(run: dict, top: int = 3) -> str:
    """Where a run's wall time went, from its measured stages: the largest ones, dbt's slowest nodes."""
    stages = sorted((run.get("stages") or {}).items(), key=lambda kv: -kv[1])[:top]
    slowest = (run.get("dbt") or {}).get("slowest") or []
    parts = []
    for stage, seconds in stages:
        part = f"{STAGE_LABELS[stage]} {seconds:.1f} s"
        if stage == "dbt" and slowest:
            part += " (slowest nodes " + ", ".join(f"{_node_name(n['node'])} {n['seconds']:.1f} s" for n in slowest[:2]) + ")"
        parts.append(part)
    return ", ".join(parts) or "no stage times (the run failed early)"


def evaluate_targets(scales: list[dict]) -> list[dict]:
    def target(name: str, limit: str, measured: str | None, met: bool | None, where: str, projected: bool = False,
               why: str | None = None) -> dict:
        return {"target": name, "limit": limit, "measured": measured or "not measured at this scale",
                "met": met, "projected": projected, "where": where, "why": why if met is False else None}

    out = []
    for rows, label, seconds_limit, mem_limit in ((TARGET_ROWS_10M, "10 M", 45, 4), (TARGET_ROWS_100M, "100 M", 360, 12)):
        r = _nearest(scales, rows)
        if r is None:
            where = f"needs a scale near {rows:,} rows"
            out.append(target(f"full rebuild, {label} touchpoints", f"< {_duration(seconds_limit)}", None, None, where))
            out.append(target(f"peak memory, {label} touchpoints", f"< {mem_limit} GiB", None, None, where))
            continue
        wall, peak, over = _duration(r["wall_seconds"]), _gib(r["peak_rss_bytes"]), r["peak_rss_bytes"] >= mem_limit * GiB
        if r["success"]:
            time_measured, time_met, time_why = wall, r["wall_seconds"] < seconds_limit, time_went(r)
            peak_measured, peak_met = peak, not over
        else:  # a failed build is no full rebuild: its time and peak only bound the real ones from below
            time_measured, time_met, time_why = f"the run failed after {wall}", False, f"failed: {_failure(r)}; {time_went(r)}"
            peak_measured, peak_met = f"{peak} until the run failed", False if over else None
        where = f"{r['rows_read']:,} rows read"
        out.append(target(f"full rebuild, {label} touchpoints", f"< {_duration(seconds_limit)}", time_measured, time_met, where,
                          why=time_why))
        out.append(target(f"peak memory, {label} touchpoints", f"< {mem_limit} GiB", peak_measured, peak_met, where,
                          why=f"peak during {STAGE_LABELS.get(r.get('peak_rss_stage') or '', 'an unknown stage')}"))
    for s in scales:
        full, night = (next((r for r in s["runs"] if r["kind"] == k and r["success"]), None) for k in ("full", "night"))
        if full and night:
            ratio = night["wall_seconds"] / full["wall_seconds"]
            out.append(target("next night vs full rebuild", "< 1/5 (0.20)", f"{ratio:.2f} ({night['wall_seconds']:.0f} s / {full['wall_seconds']:.0f} s)",
                              ratio < 0.2, s["label"], why=f"night: {time_went(night)}"))
            if s["days"] >= 365 and full.get("rows_read") and _near(full["rows_read"], TARGET_ROWS_10M):
                out.append(target("next night on a year of 10 M", "< 15 s", _duration(night["wall_seconds"]), night["wall_seconds"] < 15, s["label"],
                                  why=time_went(night)))
    fulls = sorted((r["rows_read"], r["wall_seconds"], s["label"])
                   for s in scales for r in s["runs"] if r["kind"] == "full" and r["success"] and r.get("rows_read"))
    for (rows_a, sec_a, label_a), (rows_b, sec_b, label_b) in zip(fulls, fulls[1:], strict=False):
        if rows_b <= rows_a:
            continue
        data_ratio, time_ratio = rows_b / rows_a, sec_b / sec_a
        limit = data_ratio ** TIME_EXPONENT_LIMIT
        out.append(target("time grows at most 12x per 10x data", f"<= {limit:.1f}x for {data_ratio:.1f}x data",
                          f"{time_ratio:.2f}x", time_ratio <= limit, f"{label_a} -> {label_b}"))
    # the generator: measured at the scale nearest 10 M rows if one is within 1.5x of it, else
    # projected from the largest scale (small scales carry fixed costs)
    generated = [s for s in scales if s["generation"].get("rows_per_second")]
    near_10m = [s for s in generated if _near(s["generation"]["rows"], TARGET_ROWS_10M)]
    if near_10m:
        chosen = min(near_10m, key=lambda s: _distance(s["generation"]["rows"], TARGET_ROWS_10M))
    else:
        chosen = max(generated, key=lambda s: s["generation"]["rows"], default=None)
    if chosen:
        gen, near = chosen["generation"], bool(near_10m)
        seconds = gen["seconds"] if near else TARGET_ROWS_10M / gen["rows_per_second"]
        measured = _duration(seconds) if near else f"{_duration(seconds)} projected linearly from {_rate(gen['rows_per_second'])}"
        out.append(target("demo generator, 10 M touchpoints", "< 2 min", measured, seconds < 120, chosen["label"], projected=not near))
    return out


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"## touchline bench, {report['started_at'][:16].replace('T', ' ')} UTC",
        "",
        f"Machine: {m['host']}, {m['cpu_model']}, {m['cores_logical']} cores, {_gib(m['ram_bytes'])} RAM; Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
        + f". Commit {str(m['git'].get('commit'))[:10]}{' (uncommitted changes)' if m['git'].get('dirty') else ''}. "
        + f"Load average {m['load_average_at_start'][0]:.2f} at start, {m.get('load_average_at_end', [float('nan')])[0]:.2f} at end.",
    ]
    if report.get("note"):
        lines += ["", report["note"]]
    lines += ["", "### Landing zones (demo generator)", "",
              "| scale | rows | files | size | generate | generator rows/s | night held back |",
              "|---|--:|--:|--:|--:|--:|---|"]
    for s in report["scales"]:
        g = s["generation"]
        lines.append(f"| {s['label']} | {g['rows']:,} | {g['files']:,} | {_mb(g['bytes'])} | {g['seconds']:.1f} s | {_rate(g['rows_per_second'])} | "
                     f"{g['night']['day']}: {g['night']['files']} files, {_mb(g['night']['bytes'])} |")
    lines += ["", "### Pipeline (child process, wall time)", "",
              "| scale | run | rows read | wall | rows/s | ingestion rows/s | raw-scan floor | floor rows/s | wall / floor | peak RSS (tree) | peak during | CPU | status |",
              "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|---|"]
    for s in report["scales"]:
        for r in s["runs"]:
            f = r["floor"]
            lines.append(
                f"| {s['label']} | {r['label']} | {r['rows_read'] or 0:,} | {r['wall_seconds']:.1f} s | {_rate(r['rows_per_second'])} | "
                f"{_rate(r.get('ingestion_rows_per_second'))} | {f['seconds']:.2f} s | {_rate(f['rows_per_second'])} | {r['wall_seconds'] / f['seconds']:.0f}x | {_gib(r['peak_rss_bytes'])} | "
                f"{STAGE_LABELS.get(r.get('peak_rss_stage') or '', '-')} | {r['cpu_seconds']:.0f} s | {'OK' if r['success'] else 'FAILED'} |")
    shown = [k for k in STAGES if any(r.get("stages", {}).get(k, 0) >= 0.05 for s in report["scales"] for r in s["runs"])]
    lines += ["", "### Wall time per stage (seconds, share of the wall time)", "",
              "| scale | run | " + " | ".join(STAGE_LABELS[k] for k in shown) + " | total |",
              "|---|---|" + "--:|" * (len(shown) + 1)]
    for s in report["scales"]:
        for r in s["runs"]:
            st = r.get("stages")
            if not st:
                lines.append(f"| {s['label']} | {r['label']} | " + " | ".join("-" for _ in shown) + f" | {r['wall_seconds']:.1f} |")
                continue
            lines.append(f"| {s['label']} | {r['label']} | "
                         + " | ".join(f"{st[k]:.1f} ({st[k] / r['wall_seconds']:.0%})" for k in shown) + f" | {r['wall_seconds']:.1f} |")
    notes = []
    for s in report["scales"]:
        for r in s["runs"]:
            d = r.get("dbt") or {}
            if d.get("models"):
                slow = ", ".join(f"{_node_name(n['node'])} {n['seconds']:.1f} s" for n in d["slowest"][:4])
                cmd = "".join(f"{c['command']} {c['seconds']:.1f} s, " for c in d.get("commands", []))
                cmd = f"{cmd.removesuffix(', ')} of the step; " if cmd else ""
                notes.append(f"- {s['label']}, {r['label']}: {cmd}dbt's own node times (2 threads, summed): "
                             f"{d['models']} models {d['model_seconds']:.1f} s, {d['tests']} tests {d['test_seconds']:.1f} s; slowest {slow}")
            if not r["success"]:
                notes.append(f"- {s['label']}, {r['label']}: the run FAILED ({_failure(r)}); its figures are not those of a good night")
    if notes:
        lines += ["", "### dbt detail and failures", "", *notes]
    lines += ["", "### Targets (issue 9)", "", "| target | limit | measured | met | where | where it went, if missed |",
              "|---|---|---|---|---|---|"]
    for t in report["targets"]:
        met = "-" if t["met"] is None else ("yes" if t["met"] else "**no**") + (" (projected)" if t.get("projected") else "")
        lines.append(f"| {t['target']} | {t['limit']} | {t['measured']} | {met} | {t['where']} | {t.get('why') or ''} |")
    lines += ["", "Stages add up to the wall time of the child process: startup (interpreter, imports, Dagster definitions, "
              "dbt manifest check) + Dagster steps + Dagster overhead (run wall minus steps: run creation, planning, "
              "event writes) + report + exit (mart row counts, HTML report). The next night lands one more day of "
              "exports and runs again on the same lake, warehouse and Dagster instance, as the nightly schedule "
              "requests it (the new day's partition): ingestion reads only the new files, dbt builds the facts and "
              "the people the night touched incrementally and rebuilds the marts. Peak RSS is the "
              "sum over the child and its descendants (dbt), sampled every "
              f"{report['config']['rss_sample_interval_seconds']} s. The raw-scan floor is DuckDB reading every "
              "landed export once (text columns, every value hashed; fastest of two passes) in the bench process, "
              "on the same files, just before the run."]
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], results: Path) -> tuple[Path, Path]:
    results.mkdir(parents=True, exist_ok=True)
    stamp = report["started_at"].replace(":", "").replace("-", "").replace("+0000", "Z")
    base = results / f"{stamp}-{report['machine']['host']}"
    json_path, md_path = base.with_suffix(".json"), base.with_suffix(".md")
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    text = markdown(report)
    md_path.write_text(text)
    (results / "latest.md").write_text(text)
    (results / "latest.json").write_text(json_path.read_text())
    return json_path, md_path


# --------------------------------------------------------------------------------------------
# Formatting


def _gib(n: float | None) -> str:
    if not n:
        return "-"
    return f"{n / GiB:.2f} GiB" if n >= 0.95 * GiB else f"{n / MiB:.0f} MiB"


def _mb(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def _rate(r: float | None) -> str:
    if not r:
        return "-"
    if r < 1000:
        return f"{r:.0f} rows/s"
    return f"{r / 1e6:.2f} M rows/s" if r >= 1e6 else f"{r / 1e3:.1f} k rows/s"


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{int(seconds // 60)} min {seconds % 60:.0f} s"


def _node_name(unique_id: str) -> str:
    """model.touchline.fct_touchpoints -> fct_touchpoints; test.touchline.unique_x.1a2b3c -> unique_x"""
    parts = unique_id.split(".")
    return parts[2] if len(parts) >= 3 else unique_id


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "child":
        sys.exit(_child_main(Path(sys.argv[2]), *sys.argv[3:]))
    sys.exit("usage: python -m touchline.bench child RESULT.json (internal; use `touchline bench`)")
