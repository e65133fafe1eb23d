"""Run a suite against a table and summarize the outcome for people and for Dagster metadata."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    examples: list = field(default_factory=list)

    def describe(self) -> str:
        where = f" on {self.column}" if self.column else ""
        if self.success:
            return f"{self.expectation}{where}: ok"
        count = f"{self.unexpected_count} rows ({self.unexpected_percent:.2f}%)" if self.unexpected_count is not None else "failed"
        return f"{self.expectation}{where}: {count}, e.g. {self.examples[:3]}"


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


def validate_parquet(name: str, parquet_glob: str, expectations: list) -> SuiteOutcome:
    """Validate parquet where it lies: GX pushes every expectation down to DuckDB as SQL."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import duckdb
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from expectations.gx_duckdb import apply_result_buffering

    apply_result_buffering()
    with tempfile.TemporaryDirectory(prefix="touchline-gx-") as tmp:
        database = Path(tmp) / "views.duckdb"  # a view over the files, read through duckdb-engine
        with duckdb.connect(str(database)) as con:
            con.execute(f"create view {name} as select * from read_parquet('{parquet_glob}', union_by_name = true)")
            rows = con.execute(f"select count(*) from {name}").fetchone()[0]
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = context.data_sources.add_sql(f"{name}_source", connection_string=f"duckdb:///{database}")
        batch_def = source.add_table_asset(name, table_name=name).add_batch_definition_whole_table(f"{name}_batch")
        suite = context.suites.add(gx.ExpectationSuite(name=f"{name}_suite", expectations=expectations))
        result = batch_def.get_batch().validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5})
        outcomes = [_outcome(r) for r in result.results]
    return SuiteOutcome(name, rows, outcomes)


def _outcome(r) -> ExpectationOutcome:
    cfg = r.expectation_config
    res = r.result or {}
    return ExpectationOutcome(
        expectation=cfg.type,
        column=cfg.kwargs.get("column") or cfg.kwargs.get("column_A"),
        success=bool(r.success),
        unexpected_count=res.get("unexpected_count"),
        unexpected_percent=res.get("unexpected_percent"),
        examples=[_plain(v) for v in (res.get("partial_unexpected_list") or [])][:5],
    )


def _plain(value):
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
