"""Where everything lives. The one place that reads the environment.

TOUCHLINE_LANDING    landing zone folder (default: data/landing, filled with demo exports by `make run`)
TOUCHLINE_WAREHOUSE  DuckDB file analysts query (default: data/warehouse/touchline.duckdb)
TOUCHLINE_LAKE       normalized parquet (default: data/lake)
TOUCHLINE_SALT       secret salt for person keys (default: a fixed demo salt; set your own for real data)
TOUCHLINE_CONTRACTS  extra folder(s) of contract YAML files, ':'-separated (optional)
DAGSTER_HOME         Dagster instance folder (default: data/dagster)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DEMO_SALT = "touchline-demo-salt"
CONTRACTS_DIRS = (REPO_ROOT / "ingestion" / "contracts",)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing: Path
    lake: Path
    warehouse: Path
    dagster_home: Path
    salt: str
    extra_contract_dirs: tuple[Path, ...]
    landing_configured: bool

    def dbt_env(self) -> dict[str, str]:
        """Environment dbt reads through env_var() in profiles.yml and sources."""
        return {
            "TOUCHLINE_WAREHOUSE": str(self.warehouse),
            "TOUCHLINE_LAKE": str(self.lake),
        }

    def export(self) -> None:
        """Put the resolved paths in the environment for child processes (dbt, dagster)."""
        os.environ.update(self.dbt_env())
        os.environ["DAGSTER_HOME"] = str(self.dagster_home)
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

    def ensure_dirs(self) -> None:
        for d in (self.landing, self.lake, self.warehouse.parent, self.dagster_home):
            d.mkdir(parents=True, exist_ok=True)
        dagster_yaml = self.dagster_home / "dagster.yaml"
        if not dagster_yaml.exists():
            dagster_yaml.write_text("telemetry:\n  enabled: false\n")


def _path(env: dict[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    return Path(value).expanduser().resolve() if value else default


LOCATION_VARIABLES = ("TOUCHLINE_DATA", "TOUCHLINE_LANDING", "TOUCHLINE_LAKE", "TOUCHLINE_WAREHOUSE",
                      "TOUCHLINE_CONTRACTS", "DAGSTER_HOME")


def isolated_env(data_dir: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process whose every location is under `data_dir` (`touchline
    bench`): this process's own locations, contracts folders and Dagster instance are not inherited."""
    out = {k: v for k, v in (os.environ if env is None else env).items() if k not in LOCATION_VARIABLES}
    out["TOUCHLINE_DATA"] = str(data_dir)
    out["DAGSTER_HOME"] = str(data_dir / "dagster")
    return out


def load(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = _path(env, "TOUCHLINE_DATA", REPO_ROOT / "data")
    return Settings(
        data_dir=data_dir,
        landing=_path(env, "TOUCHLINE_LANDING", data_dir / "landing"),
        lake=_path(env, "TOUCHLINE_LAKE", data_dir / "lake"),
        warehouse=_path(env, "TOUCHLINE_WAREHOUSE", data_dir / "warehouse" / "touchline.duckdb"),
        dagster_home=_path(env, "DAGSTER_HOME", data_dir / "dagster"),
        salt=env.get("TOUCHLINE_SALT") or DEMO_SALT,
        extra_contract_dirs=tuple(Path(p) for p in env.get("TOUCHLINE_CONTRACTS", "").split(":") if p),
        landing_configured="TOUCHLINE_LANDING" in env,
    )
