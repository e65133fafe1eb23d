"""Where everything lives. The one place that reads the environment.

TOUCHLINE_LANDING    landing zone: a local folder (default: data/landing, filled with demo exports by
                     `make run`) or an object-store prefix `s3://bucket/prefix` (see below)
TOUCHLINE_WAREHOUSE  DuckDB file analysts query (default: data/warehouse/touchline.duckdb)
TOUCHLINE_LAKE       normalized parquet (default: data/lake)
TOUCHLINE_SALT       secret salt for person keys (default: a fixed demo salt; set your own for real data)
TOUCHLINE_CONTRACTS  extra folder(s) of contract YAML files, ':'-separated (optional)
DAGSTER_HOME         Dagster instance folder (default: data/dagster)

Landing-zone health checks (orchestration/checks.py):
TOUCHLINE_RUN_DATE                  the day a run judges freshness against (default: today, UTC)
TOUCHLINE_FRESHNESS_MAX_AGE_DAYS    a source whose newest landing day is older than this warns (default 2)
TOUCHLINE_VOLUME_TRAILING_DAYS      landing days the newest day is compared with (default 7)
TOUCHLINE_VOLUME_MIN_PERCENT        the newest day fails below this % of their average (default 20)
TOUCHLINE_VOLUME_MIN_ROWS           sources averaging fewer rows a day are not judged (default 20)
TOUCHLINE_QUARANTINE_MAX_PERCENT    a file losing more than this % of its rows to quarantine fails the night (default 5)
TOUCHLINE_QUARANTINE_MIN_ROWS       files with fewer rows are not judged by that share (default 20)

TOUCHLINE_RUN_LOCK_WAIT_SECONDS  how long a run waits for another one writing the same warehouse (default 6 h)
TOUCHLINE_DATA_DOCS_ASSETS  cache of the scripts and styles the Great Expectations Data Docs load
                            (expectations/data_docs.py; default .tools/data-docs-assets, filled by `make setup`)

Nightly operations (orchestration/jobs.py, orchestration/sensors.py, ingestion/run.py):
TOUCHLINE_SCHEDULE_CRON              when the nightly schedule runs, a 5-field cron string (default "0 2 * * *")
TOUCHLINE_SCHEDULE_TIMEZONE          the IANA time zone of that cron string (default UTC)
TOUCHLINE_SENSOR_INTERVAL_SECONDS    how often the landing sensor looks for new files (default 60, at least 10)
TOUCHLINE_FULL_REFRESH               1/true/yes: re-ingest every landed file, not only new or changed ones (default off)
TOUCHLINE_PARTITIONS_START           first day of the daily partitions (landing-zone day folders, YYYY-MM-DD;
                                     default 2020-01-01): an earlier day folder is reported, not read

A landing zone on object storage (TOUCHLINE_LANDING=s3://bucket/prefix; any S3-compatible server) is
read file by file through s3fs/botocore (ingestion/object_store.py), which take the endpoint and the
credentials from the standard AWS variables themselves; Touchline never reads or logs the secrets:
AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL   endpoint of an S3-compatible server (MinIO, Ceph, moto, ...);
                                         unset: AWS S3. Read here too, to name it in error messages.
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN   credentials (or AWS_PROFILE with
                                         ~/.aws/credentials, or an instance/container role)
AWS_REGION / AWS_DEFAULT_REGION          region of the bucket (AWS S3)
AWS_MAX_ATTEMPTS     attempts per storage request on transient errors (default here 5; botocore's 3)
AWS_RETRY_MODE       botocore retry mode: standard (default here; botocore's is legacy) or adaptive
The lake, the warehouse and TOUCHLINE_DATA stay local folders (atomic renames, DuckDB files).

dbt never writes the warehouse analysts read: it builds `staging_warehouse` (beside it), which is
published onto `warehouse` only when every check passed (touchline/publish.py). dbt finds that
path in TOUCHLINE_DBT_WAREHOUSE, which `export()` sets; it is not a setting.
TOUCHLINE_DBT_MEMORY_LIMIT (read by dbt_project/profiles.yml, inherited by dbt) caps DuckDB's memory
in dbt, which then spills to disk (default 2GiB; e.g. 8GiB, or 80% for DuckDB's own default).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DEMO_SALT = "touchline-demo-salt"
CONTRACTS_DIRS = (REPO_ROOT / "ingestion" / "contracts",)
DBT_WAREHOUSE_ENV = "TOUCHLINE_DBT_WAREHOUSE"  # the file dbt builds (profiles.yml): always the staging file


class SettingsError(ValueError):
    """An environment variable with a value Touchline cannot use; the message names it."""


RETRY_MODES = ("standard", "adaptive", "legacy")


@dataclass(frozen=True)
class ObjectStore:
    """A landing zone on object storage: `s3://bucket/prefix` (prefix may be empty)."""

    url: str  # s3://bucket/prefix, without a trailing slash
    endpoint_url: str | None = None  # None: botocore's default (AWS S3, or endpoint_url in ~/.aws/config)
    max_attempts: int = 5  # per request, on transient errors (botocore retries)
    retry_mode: str = "standard"

    @property
    def bucket(self) -> str:
        return self.url.removeprefix("s3://").split("/", 1)[0]

    @property
    def prefix(self) -> str:
        """The key prefix under the bucket, without slashes at either end ('' for the whole bucket)."""
        parts = self.url.removeprefix("s3://").split("/", 1)
        return parts[1] if len(parts) > 1 else ""

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the landing-zone health checks (volume band, freshness)."""

    run_date: date | None = None  # None: the day the check runs (UTC)
    freshness_max_age_days: int = 2
    volume_trailing_days: int = 7
    volume_min_percent: float = 20.0
    volume_min_rows: float = 20.0
    quarantine_max_percent: float = 5.0
    quarantine_min_rows: int = 20

    def as_of(self) -> date:
        return self.run_date or datetime.now(UTC).date()


@dataclass(frozen=True)
class ScheduleSettings:
    """When the nightly schedule runs, and how often the landing sensor looks."""

    cron: str = "0 2 * * *"
    timezone: str = "UTC"
    sensor_interval_seconds: int = 60
    partitions_start: date = date(2020, 1, 1)  # the first daily partition (orchestration/partitions.py)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing: Path | ObjectStore  # a local folder, or an s3:// prefix (ingestion/landing_zone.py reads both)
    lake: Path
    warehouse: Path
    dagster_home: Path
    salt: str
    extra_contract_dirs: tuple[Path, ...]
    landing_configured: bool
    quality: QualitySettings = QualitySettings()
    data_docs_assets: Path = REPO_ROOT / ".tools" / "data-docs-assets"
    run_lock_wait_seconds: float = 6 * 3600.0
    schedule: ScheduleSettings = ScheduleSettings()
    full_refresh: bool = False  # re-ingest every landed file (ingestion/run.py), not only new or changed ones

    @property
    def staging_warehouse(self) -> Path:
        """Where dbt builds: beside the published file (same folder, so publishing is one atomic
        rename on one file system), named `<name>.staging.duckdb`. DuckDB and dbt-duckdb name a
        file's catalog after the part of its name before the first dot, so both files are catalog
        `touchline` and anything that names the catalog still resolves after the rename."""
        w = self.warehouse
        return w.with_name(f"{w.stem}.staging{w.suffix}" if w.suffix else f"{w.name}.staging")

    @property
    def staging_owner(self) -> Path:
        """Names the backfill or run whose build the staging file holds (orchestration/dbt.py)."""
        return self.staging_warehouse.with_name(f".{self.staging_warehouse.name}.owner")

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's target folder for the pipeline's builds (orchestration/dbt.py), kept from night to
        night beside the warehouse: its partial_parse.msgpack matches this warehouse's profile and
        vars, so the next build parses only the project files that changed."""
        return self.warehouse.parent / ".dbt_target"

    @property
    def dbt_docs_dir(self) -> Path:
        """dbt docs of the latest build, one self-contained page (orchestration/dbt.py)."""
        return self.warehouse.parent / "docs" / "dbt"

    @property
    def quality_reports_dir(self) -> Path:
        """The ingestion quality reports (touchline/quality_report.py), in a docs folder beside the warehouse."""
        return self.warehouse.parent / "docs" / "quality"

    @property
    def run_lock(self) -> Path:
        """Held by the run writing the lake and warehouse (touchline/run_lock.py)."""
        return self.warehouse.parent / ".touchline-run.lock"

    @property
    def gx_docs_dir(self) -> Path:
        """Great Expectations Data Docs of the latest checks, one site per layer (lake/, marts/), readable offline."""
        return self.warehouse.parent / "docs" / "gx"

    def dbt_env(self) -> dict[str, str]:
        """Environment dbt reads through env_var() in profiles.yml and sources: dbt builds the staging file."""
        return {
            DBT_WAREHOUSE_ENV: str(self.staging_warehouse),
            "TOUCHLINE_LAKE": str(self.lake),
        }

    def export(self) -> None:
        """Put the resolved paths in the environment for child processes (dbt, dagster)."""
        os.environ.update(self.dbt_env())
        os.environ["TOUCHLINE_WAREHOUSE"] = str(self.warehouse)
        os.environ["DAGSTER_HOME"] = str(self.dagster_home)
        # Dagster hands a run's per-day asset events to the event log in batches of this size
        # (orchestration/event_log.py writes a batch in one transaction).
        os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

    @property
    def local_landing(self) -> Path | None:
        """The landing folder, or None when the landing zone is on object storage."""
        return self.landing if isinstance(self.landing, Path) else None

    def ensure_dirs(self) -> None:
        local = [self.landing] if isinstance(self.landing, Path) else []
        for d in (*local, self.lake, self.warehouse.parent, self.dagster_home):
            d.mkdir(parents=True, exist_ok=True)
        write_instance_config(self.dagster_home / "dagster.yaml")


EVENT_BATCH_SIZE = "10000"
STORAGE_KEYS = ("storage", "run_storage", "event_log_storage", "schedule_storage")
INSTANCE_DEFAULTS = {
    "telemetry": {"enabled": False},
    # DuckDB has one writer: runs the daemon launches (schedule, sensor, UI, backfills) queue.
    "concurrency": {"runs": {"max_concurrent_runs": 1}},
}


def write_instance_config(path: Path) -> None:
    """dagster.yaml with Touchline's defaults for what it does not set yet (a value set by hand stays)."""
    import yaml

    current = (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}
    merged = _with_defaults(current, INSTANCE_DEFAULTS)
    if not any(key in current for key in STORAGE_KEYS):  # storage chosen by hand (Postgres, ...) stays
        merged |= storage_config(str(path.parent))
    if merged != current or not path.exists():
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(yaml.safe_dump(merged, sort_keys=False))
        tmp.replace(path)


def storage_config(dagster_home: str) -> dict:
    """dagster.yaml's storage block: Dagster's default SQLite files and folders, with the batched
    event log of orchestration/event_log.py (named here, imported by Dagster when it opens the instance)."""
    return {
        "run_storage": {"module": "dagster._core.storage.runs", "class": "SqliteRunStorage",
                        "config": {"base_dir": f"{dagster_home}/history"}},
        "event_log_storage": {"module": "orchestration.event_log", "class": "BatchedSqliteEventLogStorage",
                              "config": {"base_dir": f"{dagster_home}/history/runs"}},
        "schedule_storage": {"module": "dagster._core.storage.schedules", "class": "SqliteScheduleStorage",
                             "config": {"base_dir": f"{dagster_home}/schedules"}},
    }


def _with_defaults(current: dict, defaults: dict) -> dict:
    out = dict(current)
    for key, value in defaults.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _with_defaults(out[key], value)
        elif key not in out:
            out[key] = value
    return out


def _path(env: dict[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    if value and "://" in value:
        raise SettingsError(f"{name}={value!r}: must be a local folder (only TOUCHLINE_LANDING may be an s3:// URL)")
    return Path(value).expanduser().resolve() if value else default


def _landing(env: dict[str, str], default: Path) -> Path | ObjectStore:
    value = (env.get("TOUCHLINE_LANDING") or "").strip()
    if "://" not in value:
        return _path(env, "TOUCHLINE_LANDING", default)
    scheme = value.split("://", 1)[0]
    if scheme != "s3":
        raise SettingsError(f"TOUCHLINE_LANDING={value!r}: {scheme}:// is not supported; use a local folder or s3://bucket/prefix "
                            "(any S3-compatible server: set AWS_ENDPOINT_URL)")
    bucket, _, prefix = value.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    if not bucket:
        raise SettingsError(f"TOUCHLINE_LANDING={value!r}: no bucket; expected s3://bucket/prefix")
    if prefix and any(part in ("", ".", "..") for part in prefix.split("/")):
        raise SettingsError(f"TOUCHLINE_LANDING={value!r}: empty, '.' or '..' segment in the prefix")
    endpoint = (env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or "").strip() or None
    mode = (env.get("AWS_RETRY_MODE") or "standard").strip()
    if mode not in RETRY_MODES:
        raise SettingsError(f"AWS_RETRY_MODE={mode!r} must be one of {', '.join(RETRY_MODES)}")
    return ObjectStore(url=f"s3://{bucket}/{prefix}".rstrip("/"), endpoint_url=endpoint,
                       max_attempts=_number(env, "AWS_MAX_ATTEMPTS", ObjectStore.max_attempts, int, 1), retry_mode=mode)


def _number(env: dict[str, str], name: str, default, kind, minimum):
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = kind(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not {'a whole number' if kind is int else 'a number'}") from None
    if number < minimum:
        raise SettingsError(f"{name}={value!r} must be at least {minimum}")
    return number


def _quality(env: dict[str, str]) -> QualitySettings:
    d = QualitySettings()
    return QualitySettings(
        run_date=_day(env, "TOUCHLINE_RUN_DATE", None),
        freshness_max_age_days=_number(env, "TOUCHLINE_FRESHNESS_MAX_AGE_DAYS", d.freshness_max_age_days, int, 0),
        volume_trailing_days=_number(env, "TOUCHLINE_VOLUME_TRAILING_DAYS", d.volume_trailing_days, int, 1),
        volume_min_percent=_number(env, "TOUCHLINE_VOLUME_MIN_PERCENT", d.volume_min_percent, float, 0),
        volume_min_rows=_number(env, "TOUCHLINE_VOLUME_MIN_ROWS", d.volume_min_rows, float, 0),
        quarantine_max_percent=_number(env, "TOUCHLINE_QUARANTINE_MAX_PERCENT", d.quarantine_max_percent, float, 0),
        quarantine_min_rows=_number(env, "TOUCHLINE_QUARANTINE_MIN_ROWS", d.quarantine_min_rows, int, 1),
    )


def _schedule(env: dict[str, str]) -> ScheduleSettings:
    d = ScheduleSettings()
    cron = " ".join(env.get("TOUCHLINE_SCHEDULE_CRON", "").split()) or d.cron
    if cron != d.cron:
        # dagster's own rule (5 fields, no seconds, no 30 February); imported only for a non-default value
        from dagster._utils.schedules import is_valid_cron_string

        if not is_valid_cron_string(cron):
            raise SettingsError(f"TOUCHLINE_SCHEDULE_CRON={env['TOUCHLINE_SCHEDULE_CRON']!r} is not a 5-field cron string "
                                "(minute hour day-of-month month day-of-week, e.g. '0 2 * * *' for 02:00 every day)")
    timezone = env.get("TOUCHLINE_SCHEDULE_TIMEZONE", "").strip() or d.timezone
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"TOUCHLINE_SCHEDULE_TIMEZONE={env['TOUCHLINE_SCHEDULE_TIMEZONE']!r} is not an IANA time zone "
                            "(e.g. UTC, Europe/Berlin, America/New_York)") from None
    return ScheduleSettings(cron=cron, timezone=timezone,
                            sensor_interval_seconds=_number(env, "TOUCHLINE_SENSOR_INTERVAL_SECONDS", d.sensor_interval_seconds, int, 10),
                            partitions_start=_partitions_start(env, d.partitions_start))


def _partitions_start(env: dict[str, str], default: date) -> date:
    start = _day(env, "TOUCHLINE_PARTITIONS_START", default)
    if start > datetime.now(UTC).date():
        raise SettingsError(f"TOUCHLINE_PARTITIONS_START={env['TOUCHLINE_PARTITIONS_START']!r} is in the future: "
                            "no landing day could be read (set it to the first day of your exports)")
    return start


def _day(env: dict[str, str], name: str, default: date | None) -> date | None:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"{name}={env[name]!r} is not a YYYY-MM-DD date") from None


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def _flag(env: dict[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}={env[name]!r} is not a yes/no value (use 1/true/yes or 0/false/no)")


LOCATION_VARIABLES = ("TOUCHLINE_DATA", "TOUCHLINE_LANDING", "TOUCHLINE_LAKE", "TOUCHLINE_WAREHOUSE",
                      DBT_WAREHOUSE_ENV, "TOUCHLINE_CONTRACTS", "DAGSTER_HOME")


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
        landing=_landing(env, data_dir / "landing"),
        lake=_path(env, "TOUCHLINE_LAKE", data_dir / "lake"),
        warehouse=_path(env, "TOUCHLINE_WAREHOUSE", data_dir / "warehouse" / "touchline.duckdb"),
        dagster_home=_path(env, "DAGSTER_HOME", data_dir / "dagster"),
        salt=env.get("TOUCHLINE_SALT") or DEMO_SALT,
        extra_contract_dirs=tuple(Path(p) for p in env.get("TOUCHLINE_CONTRACTS", "").split(":") if p),
        landing_configured="TOUCHLINE_LANDING" in env,
        quality=_quality(env),
        data_docs_assets=_path(env, "TOUCHLINE_DATA_DOCS_ASSETS", REPO_ROOT / ".tools" / "data-docs-assets"),
        run_lock_wait_seconds=_number(env, "TOUCHLINE_RUN_LOCK_WAIT_SECONDS", 6 * 3600.0, float, 0),
        schedule=_schedule(env),
        full_refresh=_flag(env, "TOUCHLINE_FULL_REFRESH"),
    )
