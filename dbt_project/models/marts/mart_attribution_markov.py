"""First-order Markov removal-effect attribution, per period, computed exactly.

The chain of one period is built from its transformed paths (mart_attribution_paths): states are
(start), the channels, (conversion) and (null); every path adds start -> first step, one
transition per pair of consecutive steps and last step -> (conversion) for each conversion or
-> (null) for each non-conversion. A self-transition (a channel followed by itself) changes no
absorption probability and is left out. The probability of reaching (conversion) from (start)
is found by solving the absorbing chain's linear system (I - Q) h = r, not by simulating
journeys. Removing a channel sends every transition into it to (null); its removal effect is
1 - P(conversion without it) / P(conversion). A channel's share is its removal effect over the
sum of all removal effects of the period, and it is credited that share of the period's
conversions and revenue (the conversions with at least one eligible touchpoint).

Self-contained (numpy and pandas only) so that tests can import it from its file.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import math
import numpy as np
import pandas as pd

COLUMNS = [
    "period_start", "channel", "conversion_probability", "removal_effect", "removal_effect_share",
    "conversions", "attributed_conversions", "revenue_reporting", "attributed_revenue",
]


def transition_counts(paths: Iterable[tuple[Sequence[str], float, float]]) -> dict[tuple[str, str], float]:
    """(from, to) -> weight for paths given as (channels, conversions, non-conversions)."""
    counts: dict[tuple[str, str], float] = defaultdict(float)
    for channels, conversions, non_conversions in paths:
        if not channels:
            continue
        journeys = conversions + non_conversions
        counts[("(start)", channels[0])] += journeys
        for here, there in zip(channels, channels[1:]):
            if here != there:
                counts[(here, there)] += journeys
        if conversions:
            counts[(channels[-1], "(conversion)")] += conversions
        if non_conversions:
            counts[(channels[-1], "(null)")] += non_conversions
    return counts


def conversion_probability(counts: dict[tuple[str, str], float], channels: list[str], removed: str | None = None) -> float:
    """P(reach (conversion) from (start)); transitions into `removed` go to (null)."""
    index = {channel: i for i, channel in enumerate(channels)}
    n = len(channels)
    totals: dict[str, float] = defaultdict(float)
    for (here, _), weight in counts.items():
        totals[here] += weight
    q = np.zeros((n, n))
    r = np.zeros(n)
    start = np.zeros(n)
    for (here, there), weight in counts.items():
        p = weight / totals[here]
        if there == removed:
            continue  # now a transition to (null)
        if here == "(start)":
            if there in index:
                start[index[there]] += p
        elif here == removed:
            continue  # unreachable
        elif there == "(conversion)":
            r[index[here]] += p
        elif there in index:
            q[index[here], index[there]] += p
    if n == 0:
        return 0.0
    absorbed = np.linalg.solve(np.eye(n) - q, r)
    return float(start @ absorbed)


def removal_effects(paths: list[tuple[Sequence[str], float, float]]) -> dict[str, float]:
    """Channel -> removal effect (0..1) over the given paths; all 0 when nothing converts."""
    counts = transition_counts(paths)
    channels = sorted({c for channels, _, _ in paths for c in channels})
    base = conversion_probability(counts, channels)
    if base <= 0:
        return {channel: 0.0 for channel in channels}
    return {
        channel: max(0.0, 1.0 - conversion_probability(counts, channels, removed=channel) / base)
        for channel in channels
    }


def attribute(paths: pd.DataFrame) -> pd.DataFrame:
    """Per period and channel credit from a path table (period_start, path_channels, conversions,
    non_conversions, revenue_reporting); paths without steps are ignored."""
    rows = []
    for period, group in paths.groupby("period_start", sort=True):
        group = group[group["path_channels"].map(len) > 0]
        triples = [
            (list(channels), float(conv), float(null))
            for channels, conv, null in zip(group["path_channels"], group["conversions"], group["non_conversions"])
        ]
        if not triples:
            continue
        effects = removal_effects(triples)
        base = conversion_probability(transition_counts(triples), sorted(effects))
        total_effect = sum(effects.values())
        conversions = float(group["conversions"].sum())
        # fsum: the correctly rounded sum, whatever order DuckDB handed the paths over in
        revenue = math.fsum(group["revenue_reporting"])
        for channel, effect in sorted(effects.items()):
            share = effect / total_effect if total_effect > 0 else 0.0
            rows.append((period, channel, base, effect, share, conversions, share * conversions, revenue, share * revenue))
    return pd.DataFrame(rows, columns=COLUMNS)


def model(dbt, session):
    dbt.config(materialized="table")
    paths = dbt.ref("mart_attribution_paths").df()
    result = attribute(paths)
    if result.empty:  # keep the column types when there is nothing to attribute
        return session.sql(
            "select cast(null as timestamp) as period_start, cast(null as varchar) as channel, "
            + ", ".join(f"cast(null as double) as {c}" for c in COLUMNS[2:])
            + " where false"
        )
    return result
