"""Run a suite against a table and summarize the outcome for people and for Dagster metadata."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pandas as pd


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


def validate_frame(name: str, frame: pd.DataFrame, expectations: list) -> SuiteOutcome:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas(f"{name}_source")
    asset = source.add_dataframe_asset(name=name)
    batch_def = asset.add_batch_definition_whole_dataframe(f"{name}_batch")
    suite = context.suites.add(gx.ExpectationSuite(name=f"{name}_suite", expectations=expectations))
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5})
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        res = r.result or {}
        outcomes.append(ExpectationOutcome(
            expectation=cfg.type,
            column=cfg.kwargs.get("column") or cfg.kwargs.get("column_A"),
            success=bool(r.success),
            unexpected_count=res.get("unexpected_count"),
            unexpected_percent=res.get("unexpected_percent"),
            examples=[_plain(v) for v in (res.get("partial_unexpected_list") or res.get("details", {}).get("mismatched", []) or [])][:5],
        ))
    return SuiteOutcome(name, len(frame), outcomes)


def _plain(value):
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
