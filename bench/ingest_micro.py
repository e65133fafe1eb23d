"""Micro-benchmark of ingestion on a demo landing zone: the CSV reader alone, and normalize_file.

    .venv/bin/python -c "from pathlib import Path; from datetime import date; \
        from touchline.demo.generator import generate; \
        generate(Path('/tmp/demo'), people=300000, days=30, seed=1, end=date(2026, 10, 31))"
    .venv/bin/python bench/ingest_micro.py /tmp/demo reader-slow   # csv module only
    .venv/bin/python bench/ingest_micro.py /tmp/demo reader        # as ingestion reads (fast path where it applies)
    .venv/bin/python bench/ingest_micro.py /tmp/demo normalize     # normalize_file end to end, no parquet writes
    .venv/bin/python bench/ingest_micro.py /tmp/demo normalize-batches  # normalize_sources on ingest's batches, no writes
    .venv/bin/python bench/ingest_micro.py /tmp/demo ingest /tmp/lake   # ingest() + resolve_identities into a fresh lake

Best wall time of REPS runs (default 2) and the CPU time of the last one; note the load average.
"""

import functools
import os
import resource
import shutil
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import ingestion.normalize as normalize
from ingestion import readers
from ingestion.contracts import load_contracts
from ingestion.landing import LandedFile
from ingestion.run import batches, ingest, resolve_identities


def main() -> None:
    root, what = Path(sys.argv[1]), sys.argv[2]
    reps = int(sys.argv[3]) if len(sys.argv) > 3 and what != "ingest" else 2
    contracts = load_contracts()
    files = [(contracts[p.parts[-3]], p) for p in sorted(root.glob("*/*/*")) if p.parts[-3] in contracts]
    print(f"load average {os.getloadavg()}")
    if what == "ingest":  # once, into an empty lake: full rebuild; peak RSS of this process
        lake = Path(sys.argv[3])
        shutil.rmtree(lake, ignore_errors=True)
        t, cpu = time.perf_counter(), time.process_time()
        report = ingest(root, lake, contracts, salt="salt", batch_id="bench")
        report.write(lake)
        t_ingest = time.perf_counter() - t
        mapping = resolve_identities(lake)
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        rows = report.totals()["rows_read"]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"ingest: {len(report.files)} files, {rows:,} rows, {t_ingest:.2f} s ({rows / t_ingest:,.0f} rows/s), "
              f"identity {wall - t_ingest:.2f} s ({mapping.height:,} aliases), cpu {cpu:.2f} s, peak RSS {peak:,.0f} MiB, "
              f"load average after {os.getloadavg()}")
        return
    if what.startswith("reader"):
        fast = False if what == "reader-slow" else None
        csvs = [(c, p.read_bytes()) for c, p in files if c.file.format == "csv"]
        timed(reps, f"parse_export fast={fast}", len(csvs),
              lambda: sum(readers.parse_export(data, c.file, fast=fast).rows_read for c, data in csvs))
    elif what == "normalize-batches":
        now = datetime.now(UTC)
        sized = [LandedFile(p.parts[-3], date.fromisoformat(p.parts[-2]), p.relative_to(root).as_posix(), p.stat().st_size, 0)
                 for _, p in files]
        timed(reps, what, len(files), lambda: sum(
            r.rows_read for batch in batches(sized) for r in normalize.normalize_sources(
                contracts[batch[0].source],
                [((root / f.relative).read_bytes, normalize.Lineage(f.relative, "bench", now, "salt")) for f in batch])))
    else:
        if what == "normalize-slow":
            normalize.parse_export = functools.partial(readers.parse_export, fast=False)
        now = datetime.now(UTC)
        timed(reps, what, len(files), lambda: sum(
            normalize.normalize_file(c, p, normalize.Lineage(str(p.relative_to(root)), "bench", now, "salt")).rows_read
            for c, p in files))


def timed(reps: int, label: str, n_files: int, run) -> None:
    best = float("inf")
    for _ in range(reps):
        t, cpu = time.perf_counter(), time.process_time()
        rows = run()
        best, cpu = min(best, time.perf_counter() - t), time.process_time() - cpu
    print(f"{label}: {n_files} files, {rows:,} rows, {best:.2f} s, {rows / best:,.0f} rows/s, cpu {cpu:.2f} s")


if __name__ == "__main__":
    main()
