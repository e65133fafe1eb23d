"""Small builders for hand-written landing zones."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path

from orchestration.partitions import range_tags
from touchline.demo.vendors import HEADERS

SALT = "test-salt"
OCTOBER_2026 = range_tags((date(2026, 10, 1), date(2026, 10, 31)))  # the tags of a run over October 2026


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
