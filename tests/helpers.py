"""Small builders for hand-written landing zones."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from touchline.demo.vendors import HEADERS

SALT = "test-salt"
OCTOBER_2026 = {"dagster/asset_partition_range_start": "2026-10-01", "dagster/asset_partition_range_end": "2026-10-31"}  # run tags


def write_export(root: Path, source: str, day: str, rows: list[list[str]], *, name: str = "export.csv",
                 header: list[str] | None = None, preamble: str = "") -> Path:
    """Write `rows` under the vendor's real header to <root>/<source>/<day>/<name>."""
    path = root / source / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        f.write(preamble)
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header or HEADERS[source])
        writer.writerows(rows)
    return path


def person_key(email: str, salt: str = SALT) -> str:
    """What the pipeline must compute for a normalized email, computed independently."""
    return hashlib.sha256(f"{salt}|email|{email}".encode()).hexdigest()[:32]
