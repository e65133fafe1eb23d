"""A second process that reads a DuckDB warehouse read-only in a loop, for the publishing tests.

    python -m tests.warehouse_reader DATABASE SQL OUT STOP [--hold] [--pause SECONDS]

Each query opens its own read-only connection (what `touchline query` does), or with --hold one
connection opened at the start serves every query (a notebook left open). It touches OUT.ready
after its first successful read and stops after the first read that began once STOP existed. OUT
gets {"states": [[row, times], ...] in the order seen (consecutive repeats counted), "errors": [...],
"reads": n}.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database")
    parser.add_argument("sql")
    parser.add_argument("out", type=Path)
    parser.add_argument("stop", type=Path)
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--pause", type=float, default=0.0)
    args = parser.parse_args()

    states: list[list] = []
    errors: list[str] = []
    reads = 0
    held = duckdb.connect(args.database, read_only=True) if args.hold else None
    ready = args.out.with_name(args.out.name + ".ready")
    deadline = time.monotonic() + 600  # never outlive a broken test
    while time.monotonic() < deadline:
        stopping = args.stop.exists()
        try:
            if held is not None:
                row = held.execute(args.sql).fetchone()
            else:
                with duckdb.connect(args.database, read_only=True) as con:
                    row = con.execute(args.sql).fetchone()
            row = [float(v) if not isinstance(v, (int, str, type(None))) else v for v in row]
            reads += 1
            if states and states[-1][0] == row:
                states[-1][1] += 1
            else:
                states.append([row, 1])
            if not ready.exists():
                ready.touch()
        except Exception as exc:  # every failure is the finding: record it, keep reading
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        if stopping:
            break
        if args.pause:
            time.sleep(args.pause)
    if held is not None:
        held.close()
    args.out.write_text(json.dumps({"states": states, "errors": errors[:20], "error_count": len(errors), "reads": reads}))


if __name__ == "__main__":
    main()
