"""Small builders for hand-written landing zones."""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from orchestration.partitions import range_tags
from touchline.demo.vendors import HEADERS
from touchline.settings import DBT_PROJECT_DIR

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


def run_dbt(root: Path, env: dict[str, str], *args: str, check: bool = True) -> str:
    """`dbt <args>` of this venv on the project, target and logs under `root`, with `env` (the
    warehouse and lake variables) and HOME in `root`; fails the test with dbt's output if dbt fails
    (with check=False, dbt's output either way: a test that expects dbt to fail reads it)."""
    env = {"HOME": str(root), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false", **env}
    command = [str(Path(sys.executable).with_name("dbt")), *args, "--profiles-dir", str(DBT_PROJECT_DIR),
               "--target-path", str(root / "target"), "--log-path", str(root / "logs")]
    done = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True)
    assert done.returncode == 0 or not check, done.stdout[-6000:] + done.stderr[-3000:]
    return done.stdout
