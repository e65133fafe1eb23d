"""The pictures analysts look at, drawn from the marts: used by the notebooks and the nightly
report, so both show the same thing. Each function takes a read-only DuckDB connection to the
warehouse and returns (matplotlib Figure, the DataFrame it was drawn from). Nothing here
computes a metric: every number is a mart column (definitions in the dbt YAML)."""

from __future__ import annotations

import io
from collections.abc import Callable

import duckdb
import matplotlib.pyplot as plt  # Agg without a screen, inline in notebooks
import pandas as pd
from matplotlib.figure import Figure

Chart = Callable[[duckdb.DuckDBPyConnection], tuple[Figure, pd.DataFrame]]


def _frame(con: duckdb.DuckDBPyConnection, sql: str, *parameters) -> pd.DataFrame:
    return con.execute(sql, list(parameters)).df()


def _latest(con: duckdb.DuckDBPyConnection, table: str, column: str, where: str = "true") -> str | None:
    """The most recent period of a mart (rates are shown for one period, never re-derived across periods)."""
    value = con.execute(f"select max({column}) from {table} where {where}").fetchone()[0]
    return None if value is None else f"{value:%Y-%m-%d}"


def _empty(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what} in the warehouse yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def funnel_by_channel(con: duckdb.DuckDBPyConnection, period: str | None = None) -> tuple[Figure, pd.DataFrame]:
    """Share of the people entering through each acquisition channel who reach each stage, for one
    entry period (default: the one before the latest, whose conversion window has had time to run)."""
    if period is None:
        periods = [r[0] for r in con.execute(
            "select distinct entry_period from mart_stage_funnel order by 1 desc limit 2").fetchall()]
        period = f"{periods[-1]:%Y-%m-%d}" if periods else "1970-01-01"
    df = _frame(con, """
        select breakdown_value as channel, journey_stage, stage_order, people_entered, people_reached, conversion_from_entry
        from mart_stage_funnel where breakdown = 'channel' and entry_period = cast(? as timestamp)
        order by channel, stage_order""", period)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if df.empty:
        _empty(ax, "funnel")
        return fig, df
    stages = df.drop_duplicates("stage_order").sort_values("stage_order")["journey_stage"].tolist()
    for channel, rows in df.groupby("channel"):
        ax.plot(rows["journey_stage"], rows["conversion_from_entry"], marker="o", label=f"{channel} ({int(rows['people_entered'].iloc[0]):,})")
    ax.set_xticks(range(len(stages)), stages)
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("share of entrants reaching the stage")
    ax.set_title(f"Journey funnel by acquisition channel, people entering in the period of {period}")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, df


def retention_heatmap(con: duckdb.DuckDBPyConnection) -> tuple[Figure, pd.DataFrame]:
    """Purchase retention of each first-purchase cohort by period offset."""
    df = _frame(con, """
        select cast(cohort_period as date) as cohort, period_offset, cohort_size, retention_rate
        from mart_retention_cohorts where activity_kind = 'purchase' and breakdown = 'all'
        order by cohort, period_offset""")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if df.empty:
        _empty(ax, "cohorts")
        return fig, df
    grid = df.pivot(index="cohort", columns="period_offset", values="retention_rate")
    image = ax.imshow(grid.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    sizes = df.drop_duplicates("cohort").set_index("cohort")["cohort_size"]
    ax.set_yticks(range(grid.shape[0]), [f"{c:%Y-%m} (n={sizes[c]:,})" for c in grid.index])
    for (i, j), value in pd.DataFrame(grid.to_numpy()).stack().items():
        ax.text(j, i, f"{value:.0%}", ha="center", va="center", fontsize=8, color="white" if value > 0.5 else "black")
    ax.set_xlabel("periods since first purchase")
    ax.set_title("Purchase retention by first-purchase cohort")
    fig.colorbar(image, ax=ax, label="retention rate")
    fig.tight_layout()
    return fig, df


def cumulative_revenue(con: duckdb.DuckDBPyConnection) -> tuple[Figure, pd.DataFrame]:
    """Cumulative revenue per cohort member (reporting currency) by period offset, per cohort."""
    df = _frame(con, """
        select cast(cohort_period as date) as cohort, period_offset, cumulative_revenue_per_member
        from mart_retention_cohorts where activity_kind = 'purchase' and breakdown = 'all'
        order by cohort, period_offset""")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if df.empty:
        _empty(ax, "cohorts")
        return fig, df
    for cohort, rows in df.groupby("cohort"):
        ax.plot(rows["period_offset"], rows["cumulative_revenue_per_member"], marker="o", label=f"{cohort:%Y-%m}")
    ax.set_xlabel("periods since first purchase")
    ax.set_ylabel("cumulative revenue per customer")
    ax.set_title("Cumulative revenue per customer by cohort")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, df


def attribution_by_model(con: duckdb.DuckDBPyConnection) -> tuple[Figure, pd.DataFrame]:
    """Conversions credited to each channel under each attribution model (all periods)."""
    df = _frame(con, """
        select attribution_model, channel, sum(attributed_conversions) as attributed_conversions
        from mart_channel_performance where breakdown = 'channel'
        group by all order by channel, attribution_model""")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    if df.empty:
        _empty(ax, "attributed conversions")
        return fig, df
    grid = df.pivot(index="channel", columns="attribution_model", values="attributed_conversions").fillna(0)
    grid.plot.bar(ax=ax, width=0.85)
    ax.set_ylabel("attributed conversions")
    ax.set_title("Conversions by channel under each attribution model")
    ax.legend(fontsize=7, ncols=2)
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig, df


def roas_by_channel(con: duckdb.DuckDBPyConnection, period: str | None = None) -> tuple[Figure, pd.DataFrame]:
    """Return on ad spend of the paid channels, per attribution model, in one period (default: the latest)."""
    period = period or _latest(con, "mart_channel_performance", "period_start", "spend_reporting > 0") or "1970-01-01"
    df = _frame(con, """
        select attribution_model, channel, attributed_revenue_reporting, spend_reporting, roas
        from mart_channel_performance
        where breakdown = 'channel' and spend_reporting > 0 and period_start = cast(? as timestamp)
        order by channel, attribution_model""", period)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if df.empty:
        _empty(ax, "ad spend")
        return fig, df
    df.pivot(index="channel", columns="attribution_model", values="roas").plot.bar(ax=ax, width=0.85)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_ylabel("ROAS (revenue / spend)")
    ax.set_title(f"ROAS by paid channel and attribution model, period of {period}")
    ax.legend(fontsize=7, ncols=2)
    ax.tick_params(axis="x", rotation=0)
    fig.tight_layout()
    return fig, df


def referral_health(con: duckdb.DuckDBPyConnection) -> tuple[Figure, pd.DataFrame]:
    """Viral coefficient K and invites / sign-ups per month."""
    df = _frame(con, """
        select cast(period_start as date) as month, invites_sent, referred_signups, viral_coefficient_k, longest_chain_so_far
        from mart_referral_program order by month""")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if df.empty:
        _empty(ax, "referral activity")
        return fig, df
    labels = [f"{m:%Y-%m}" for m in df["month"]]
    x = range(len(df))
    ax.bar([i - 0.2 for i in x], df["invites_sent"], width=0.4, label="invites sent")
    ax.bar([i + 0.2 for i in x], df["referred_signups"], width=0.4, label="referred sign-ups")
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("people")
    k_axis = ax.twinx()
    k_axis.plot(list(x), df["viral_coefficient_k"], color="black", marker="o", label="K")
    k_axis.set_ylabel("viral coefficient K")
    k_axis.set_ylim(bottom=0)
    ax.set_title("Referral program: invites, sign-ups and K")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig, df


def survey_scores(con: duckdb.DuckDBPyConnection, period: str | None = None) -> tuple[Figure, pd.DataFrame]:
    """NPS and CSAT by the journey stage the respondent had reached, in one period (default: the latest)."""
    period = period or _latest(con, "mart_survey_scores", "response_period") or "1970-01-01"
    df = _frame(con, """
        select score_scale, breakdown_value as journey_stage, responses, coalesce(nps, csat) as score
        from mart_survey_scores where breakdown = 'journey_stage' and response_period = cast(? as timestamp)
        order by score_scale, journey_stage""", period)
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, (scale, title) in zip(axes, [("nps_0_10", "NPS (-100..100)"), ("csat_1_5", "CSAT (% of 4-5)")]):
        rows = df[df["score_scale"] == scale]
        if rows.empty:
            _empty(ax, title)
            continue
        ax.bar(rows["journey_stage"], rows["score"])
        ax.set_title(f"{title} by stage reached, {period[:7]}")
        ax.axhline(0, color="grey", linewidth=1)
        for i, (score, n) in enumerate(zip(rows["score"], rows["responses"])):
            ax.annotate(f"{score:.0f} (n={n:,})", (i, score), ha="center", va="bottom", fontsize=8)
    fig.tight_layout()
    return fig, df


CHARTS: dict[str, Chart] = {
    "Journey funnel by channel": funnel_by_channel,
    "Retention cohorts": retention_heatmap,
    "Cumulative revenue per customer": cumulative_revenue,
    "Attribution across models": attribution_by_model,
    "ROAS by channel": roas_by_channel,
    "Referral program health": referral_health,
    "NPS and CSAT by stage": survey_scores,
}


def to_svg(fig: Figure) -> str:
    """The figure as inline SVG text (self-contained: no network, no files)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]
