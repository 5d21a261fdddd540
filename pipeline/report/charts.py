"""The report's charts as Vega-Lite specifications, built with altair.

Pure functions: a DataFrame in, an ``alt.Chart`` out. The pages embed ``chart.to_dict()``
and render it with the Vega bundle shipped inside the report; ``--png`` renders the same
specification with vl-convert. Colours: convergence blue, divergence red, neutral grey,
everywhere (a diverging scale from −1 to +1 for scores).
"""

from __future__ import annotations

import altair as alt
import pandas as pd

STANCE_DOMAIN = ["convergence", "neutral", "divergence"]
STANCE_RANGE = ["#2166ac", "#9e9e9e", "#b2182b"]
SCORE_SCALE = alt.Scale(scheme="redblue", domain=[-1, 1])
_WIDTH = 620


def _stance_colour(title: str = "stance") -> alt.Color:
    return alt.Color("stance:N", scale=alt.Scale(domain=STANCE_DOMAIN, range=STANCE_RANGE), title=title)


def stance_bars(by_pair: pd.DataFrame) -> alt.Chart:
    """Claims per pair, stacked by stance (overview)."""
    long = by_pair[["pair", "n_convergence", "n_neutral", "n_divergence"]].melt(
        id_vars=["pair"], var_name="stance", value_name="n")
    long["stance"] = long["stance"].str.removeprefix("n_")
    return alt.Chart(long).mark_bar().encode(
        y=alt.Y("pair:N", sort=by_pair["pair"].tolist(), title=None),
        x=alt.X("n:Q", title="sentences with a record for the pair"),
        color=_stance_colour(),
        order=alt.Order("stance_order:Q"),
        tooltip=["pair", "stance", "n"],
    ).transform_calculate(
        stance_order="indexof(['convergence', 'neutral', 'divergence'], datum.stance)"
    ).properties(width=_WIDTH, title="Relation records of the main pairs")


def _every_month(df: pd.DataFrame) -> pd.DataFrame:
    """The series with a row for every month from its first to its last (empty months:
    no score), so that the line breaks across months with no records instead of
    drawing a trend through years without data."""
    if df.empty:
        return df
    months = pd.date_range(pd.Timestamp(df["month"].min()), pd.Timestamp(df["month"].max()), freq="MS").strftime("%Y-%m-%d")
    full = pd.DataFrame({"month": months}).merge(df, on="month", how="left")
    for col in ("n", "n_convergence", "n_divergence", "n_neutral"):
        full[col] = full[col].fillna(0).astype(int)
    full["net_stance"] = full["net_stance"].fillna("")
    return full


def _score_line(df: pd.DataFrame, min_solid: int, width: int, height: int, title: str) -> alt.LayerChart:
    """Monthly mean score with one point per month sized by its records; months with
    fewer than ``min_solid`` records are hollow, so a point on 2 records does not look
    like a point on 200."""
    df = _every_month(df)
    df = df.assign(solid=df["n"] >= min_solid)
    base = alt.Chart(df).encode(x=alt.X("yearmonth(month):T", title=None))
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#bbb").encode(y="y:Q")
    line = base.mark_line(color="#777", strokeWidth=1).encode(
        y=alt.Y("mean_score:Q", scale=alt.Scale(domain=[-1, 1]), title="mean score"))
    points = base.transform_filter("datum.n > 0").mark_point(filled=False, stroke="#333", strokeWidth=1).encode(
        y="mean_score:Q",
        size=alt.Size("n:Q", scale=alt.Scale(range=[15, 600]), title="records"),
        fill=alt.condition(alt.datum.solid, alt.Fill("mean_score:Q", scale=SCORE_SCALE, legend=None), alt.value("transparent")),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "n", "n_convergence", "n_divergence",
                 "n_neutral", alt.Tooltip("mean_score:Q", format="+.2f"), "net_stance"],
    )
    return alt.layer(zero, line, points).properties(width=width, height=height, title=title)


def _count_bars(df: pd.DataFrame, width: int) -> alt.Chart:
    long = df[["month", "n_convergence", "n_divergence"]].melt(id_vars=["month"], var_name="stance", value_name="count")
    long["stance"] = long["stance"].str.removeprefix("n_")
    # divergence drawn below the axis, convergence above: both stacked on one time axis
    long["signed"] = long["count"].where(long["stance"] == "convergence", -long["count"])
    span = len(_every_month(df)) if len(df) else 1
    return alt.Chart(long).mark_bar(size=max(2, min(14, int(width / max(span, 1) * 0.8)))).encode(
        x=alt.X("yearmonth(month):T", title="month"),
        y=alt.Y("signed:Q", title="records (divergence below 0)"),
        color=_stance_colour(),
        tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "stance", "count"],
    ).properties(width=width, height=110)


def pair_timeline(df: pd.DataFrame, pair: str, min_solid: int) -> alt.VConcatChart:
    """One pair over time: the monthly net score (points sized by records) above the
    monthly convergence / divergence counts."""
    top = _score_line(df, min_solid, _WIDTH, 190, f"{pair}: monthly mean score (point size = records; hollow: < {min_solid})")
    return alt.vconcat(top, _count_bars(df, _WIDTH)).resolve_scale(color="independent", fill="independent", x="shared")


def topic_timelines(df: pd.DataFrame, pair: str, topics: list[str], min_solid: int) -> alt.VConcatChart:
    """Small multiples: one pair's monthly mean score per topic."""
    rows = [_score_line(df[df["topic"] == t], min_solid, 280, 110, t) for t in topics if (df["topic"] == t).any()]
    if not rows:
        rows = [_score_line(df, min_solid, 280, 110, "no dated records")]
    grid = [alt.hconcat(*rows[i : i + 2]) for i in range(0, len(rows), 2)]
    return alt.vconcat(*grid, title=f"{pair} by topic").resolve_scale(size="shared")


def heatmap(df: pd.DataFrame, pairs: list[str], topics: list[str]) -> alt.LayerChart:
    """Pair x topic: colour = mean score, number = records; a click on a cell opens the
    evidence for that pair and topic (the ``href`` column)."""
    base = alt.Chart(df).encode(
        x=alt.X("topic:N", sort=topics, title=None, axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("pair:N", sort=pairs, title=None),
    )
    cells = base.mark_rect(stroke="white", cursor="pointer").encode(
        color=alt.Color("mean_score:Q", scale=SCORE_SCALE, title="mean score"),
        href="href:N",
        tooltip=["pair", "topic", "n", "n_convergence", "n_divergence", "n_neutral",
                 alt.Tooltip("mean_score:Q", format="+.2f"), "net_stance"],
    )
    labels = base.mark_text(fontSize=10).encode(
        text="n:Q",
        href="href:N",
        color=alt.condition("abs(datum.mean_score) > 0.55", alt.value("white"), alt.value("black")),
    )
    return alt.layer(cells, labels).properties(
        width=max(260, 46 * len(topics)), height=max(120, 24 * len(pairs)),
        title="Mean score by pair and topic (number: records; click a cell for its evidence)")


def check_bars(status: pd.DataFrame) -> alt.Chart:
    colours = alt.Scale(domain=["agree", "disagree", "missing"], range=["#1b7837", "#b2182b", "#bdbdbd"])
    return alt.Chart(status).mark_bar().encode(
        x=alt.X("n:Q", title="table rows"), y=alt.Y("status:N", title=None, sort=["agree", "disagree", "missing"]),
        color=alt.Color("status:N", scale=colours, legend=None), tooltip=["status", "n"],
    ).properties(width=300, height=80, title="Table check")


def spec(chart) -> dict:
    """The Vega-Lite specification of a chart, data inline (the report must not load
    anything); altair's 5,000-row guard is lifted here only: the frames are aggregates."""
    with alt.data_transformers.disable_max_rows():
        return chart.to_dict()
