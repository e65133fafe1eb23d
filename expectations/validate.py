"""Run suites against tables where they lie (DuckDB SQL), summarize the outcomes for people and for
Dagster metadata, and write the Great Expectations Data Docs of what was validated."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

WARNING = "warning"  # an expectation with meta={"severity": WARNING} fails its suite with WARN, not ERROR

# DuckDB's memory in a session (the lake's copy and GX's queries); past it DuckDB spills to the
# session's temporary folder. Its own default is 80 % of RAM: a full rebuild at 28 M touchpoints
# peaked at 9.55 GiB here, and the lake grows with the data (dbt's DuckDB has the same cap).
MEMORY_LIMIT = "2GiB"


@dataclass(frozen=True)
class SuiteSpec:
    """A suite and the table it validates. `build` makes the expectations (GX objects belong to
    one context, so they are made fresh per validation); `relation` is the SQL the table is made
    from, when the session makes the table itself (the lake's parquet), and `view` makes it a view
    instead (a filter of a table made before it: no second copy). `lake_table` is the lake table a
    lake suite reads (a family's suite reads the touchpoints through its view)."""

    name: str
    build: Callable[[], list]
    table: str
    relation: str | None = None
    index_columns: tuple[str, ...] = ()  # columns naming a failing row in the results (e.g. its file and row)
    view: bool = False
    lake_table: str | None = None


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    examples: list = field(default_factory=list)
    failing_rows: list[dict] = field(default_factory=list)  # index columns of a few failing rows
    severity: str = "ERROR"
    notes: str | None = None
    error: str | None = None  # the expectation could not be evaluated (a broken rule, a missing column): it fails


    def describe(self) -> str:
        where = f" on {self.column}" if self.column else ""
        if self.success:
            return f"{self.expectation}{where}: ok"
        if self.error:
            return f"{self.expectation}{where}: could not be evaluated: {self.error}"
        count = (f"{self.unexpected_count} rows" + (f" ({self.unexpected_percent:.2f}%)" if self.unexpected_percent is not None else "")
                 if self.unexpected_count is not None else "failed")
        why = f" [{self.notes}]" if self.notes else ""
        files = sorted({r["source_file"] for r in self.failing_rows if r.get("source_file")})
        origin = f" in {', '.join(files[:3])}" if files else ""
        examples = f", e.g. {self.examples[:3]}" if self.examples else ""
        return f"{self.expectation}{where}{why}: {count}{examples}{origin}"


@dataclass
class SuiteOutcome:
    suite: str
    rows: int
    outcomes: list[ExpectationOutcome]

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def severity(self) -> str:
        """ERROR when an expectation of error severity failed, else WARN (also when all passed)."""
        return "ERROR" if any(o.severity == "ERROR" for o in self.failures) else "WARN"


class Session:
    """One Great Expectations context over one DuckDB database: several suites validated with one
    set-up (GX's import and context cost seconds; the validations themselves are SQL)."""

    def __init__(self, context, source, run_name: str | None) -> None:
        self._context = context
        self._source = source
        self._run_name = run_name

    def validate(self, spec: SuiteSpec) -> SuiteOutcome:
        import great_expectations as gx

        asset = self._source.add_table_asset(spec.name, table_name=spec.table)
        batch_def = asset.add_batch_definition_whole_table(f"{spec.name}_batch")
        suite = self._context.suites.add(gx.ExpectationSuite(name=spec.name, expectations=spec.build()))
        definition = self._context.validation_definitions.add(gx.ValidationDefinition(name=spec.name, data=batch_def, suite=suite))
        result_format = {"result_format": "SUMMARY", "partial_unexpected_count": 5}
        if spec.index_columns:
            result_format["unexpected_index_column_names"] = list(spec.index_columns)
        from great_expectations.core.run_identifier import RunIdentifier

        run_id = RunIdentifier(run_name=self._run_name) if self._run_name else None
        result = definition.run(result_format=result_format, run_id=run_id)  # kept in the context's store for the Data Docs
        rows = self._count(spec.table)
        return SuiteOutcome(spec.name, rows, [_outcome(r, spec.index_columns) for r in result.results])

    def _count(self, table: str) -> int:
        import sqlalchemy as sa

        with self._source.get_engine().connect() as connection:
            return connection.execute(sa.text(f'select count(*) from "{table}"')).scalar_one()

    def build_docs(self, target: Path, assets: Path) -> Path:
        """The Data Docs of this session's validations, readable offline (expectations/data_docs.py), in `target`."""
        from expectations.data_docs import publish_site

        target.parent.mkdir(parents=True, exist_ok=True)
        built = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            self._context.update_data_docs_site("local_site", {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(built)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            })
            self._context.build_data_docs(site_names=["local_site"])
            return publish_site(built, target, assets)
        finally:
            shutil.rmtree(built, ignore_errors=True)


@contextlib.contextmanager
def session(database: Path | None = None, tables: Sequence[SuiteSpec] = (), run_name: str | None = None) -> Iterator[Session]:
    """A GX session over `database` (opened read-only), or over a temporary database holding a table
    (or view) per spec with a `relation`, made in order: the parquet is read once by DuckDB, not once
    per query GX makes (a few per expectation, each opening every file of the glob), and nothing goes
    through pandas.
    `run_name` names the validations in the Data Docs (the Dagster run id)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import duckdb
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from expectations.gx_duckdb import apply_result_buffering

    apply_result_buffering()
    with tempfile.TemporaryDirectory(prefix="touchline-gx-") as tmp:
        if database is None:
            database = Path(tmp) / "tables.duckdb"
            with duckdb.connect(str(database), config={"memory_limit": MEMORY_LIMIT, "temp_directory": tmp}) as con:
                # the rows' order means nothing to a suite; keeping it made copying the 9.3 M-row
                # lake about 12 s instead of 9 (the failing rows GX shows may then come in another order)
                con.execute("set preserve_insertion_order = false")
                for spec in tables:
                    con.execute(f'create {"view" if spec.view else "table"} "{spec.table}" as {spec.relation}')
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = context.data_sources.add_sql("touchline", connection_string=f"duckdb:///{database}",
                                              kwargs={"connect_args": {"read_only": True, "config": {
                                                  "memory_limit": MEMORY_LIMIT, "temp_directory": tmp}}})
        try:
            yield Session(context, source, run_name)
        finally:
            _close(source)


def _close(source) -> None:
    """Close every DuckDB connection GX opened: DuckDB refuses a connection with another
    configuration to a file this process still holds (the publication opens the staging file next)."""
    import gc

    engines = [source.get_engine(), getattr(getattr(source, "_execution_engine", None), "engine", None)]
    for engine in engines:
        if engine is not None:
            engine.dispose()
    gc.collect()


def validate_parquet(name: str, parquet_glob: str, expectations: list, index_columns: tuple[str, ...] = ()) -> SuiteOutcome:
    """One suite over parquet files (tests, ad-hoc use)."""
    spec = SuiteSpec(name, lambda: expectations, table=name,
                     relation=f"select * from read_parquet('{parquet_glob}', union_by_name = true)", index_columns=index_columns)
    with session(tables=[spec]) as s:
        return s.validate(spec)


def _outcome(r, index_columns: Sequence[str]) -> ExpectationOutcome:
    cfg = r.expectation_config
    res = r.result or {}
    meta = cfg.meta or {}
    count = res.get("unexpected_count")
    if count is None and cfg.type == "unexpected_rows_expectation":
        count = res.get("observed_value")
    return ExpectationOutcome(
        expectation=cfg.type if cfg.type != "unexpected_rows_expectation" else (cfg.description or cfg.type),
        column=cfg.kwargs.get("column") or cfg.kwargs.get("column_A"),
        success=bool(r.success),
        unexpected_count=count,
        unexpected_percent=res.get("unexpected_percent"),
        examples=[_plain(v) for v in (res.get("partial_unexpected_list") or [])][:5],
        failing_rows=[{k: _plain(v) for k, v in row.items() if k in index_columns}
                      for row in (res.get("partial_unexpected_index_list") or [])][:5],
        severity="WARN" if meta.get("severity") == WARNING else "ERROR",
        notes=meta.get("notes"),
        error=_error(r.exception_info),
    )


def _error(info) -> str | None:
    """The first exception message of a result's exception_info (flat, or keyed by metric)."""
    if not info:
        return None
    entries = [info] if "raised_exception" in info else list(info.values())
    for entry in entries:
        if isinstance(entry, dict) and entry.get("raised_exception"):
            return str(entry.get("exception_message") or "raised an exception")[:300]
    return None


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
