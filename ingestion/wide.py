"""Wide exports (one column per question) into one row per answer, before parsing."""

from __future__ import annotations

import polars as pl

from ingestion.contracts import ANSWER, QUESTION, Contract
from ingestion.readers import LINE, ROW, RawFile


def one_row_per_answer(raw: RawFile, contract: Contract) -> RawFile:
    """Wide survey export -> one row per answered question (question and answer as columns).

    A response that answered none of the questions still is one row (a survey touchpoint without
    a score), so no response disappears. Row and line numbers stay those of the response."""
    spec = contract.unpivot
    questions = list(spec.questions)
    keep = [c for c in raw.columns if c not in questions]
    consts = sorted({name for c in spec.questions.values() for name in c})
    parts = [
        raw.frame.select(
            *keep, ROW, LINE, pl.lit(q).alias(QUESTION), pl.col(q).alias(ANSWER),
            *(pl.lit(spec.questions[q].get(name), dtype=pl.String).alias(f"__q_{name}") for name in consts),
        )
        for q in questions
    ]
    answers = pl.concat(parts).filter(pl.col(ANSWER).str.strip_chars() != "")
    unanswered = raw.frame.filter(~pl.col(ROW).is_in(answers[ROW].implode())).select(
        *keep, ROW, LINE, pl.lit(None, dtype=pl.String).alias(QUESTION), pl.lit(None, dtype=pl.String).alias(ANSWER),
        *(pl.lit(None, dtype=pl.String).alias(f"__q_{name}") for name in consts),
    )
    frame = pl.concat([answers, unanswered]).sort([ROW, QUESTION], nulls_last=True)
    return RawFile([*keep, QUESTION, ANSWER, *(f"__q_{n}" for n in consts)], frame, raw.rejects)
