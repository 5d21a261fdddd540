"""Output tables, declared once: column order, dtypes and checks (pandera).

Every table is validated against its schema before it is written, whatever the format.
The README's "Output columns" section documents the same columns.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from pipeline.labels import CHECK_REASONS, LABELS

_LABEL = pa.Check.isin(list(LABELS))
_PROB = pa.Check.in_range(0.0, 1.0)
_SCORE = pa.Check.in_range(-1.0, 1.0)


def _s(nullable=False, checks=None):
    return pa.Column(str, nullable=nullable, checks=checks)


def _i(nullable=False, checks=None):
    return pa.Column("Int64", nullable=nullable, checks=checks)


def _f(checks=None, nullable=False):
    return pa.Column(float, nullable=nullable, checks=checks)


SEGMENT_COLUMNS = {
    "article_id": _s(), "sentence_id": _i(checks=pa.Check.ge(0)), "block_kind": _s(checks=pa.Check.isin(["title", "heading", "paragraph", "bullet", "table"])),
    "section": _s(), "start": _i(checks=pa.Check.ge(0)), "end": _i(checks=pa.Check.ge(0)), "text": _s(),
}
STANCE_COLUMNS = {
    "stance": _s(checks=_LABEL), "score": _f(_SCORE), "p_convergence": _f(_PROB), "p_divergence": _f(_PROB), "p_neutral": _f(_PROB),
}

SUMMARY_COLUMNS = {
    "n_sentences": _i(), "n_convergence": _i(), "n_divergence": _i(), "n_neutral": _i(), "mean_score": _f(_SCORE),
    "net_stance": _s(checks=_LABEL),
    "convergence_evidence": _s(), "convergence_sentence_id": _i(nullable=True),
    "divergence_evidence": _s(), "divergence_sentence_id": _i(nullable=True),
}
#: a net stance never contradicts its own counts (see pipeline.records.net_stance)
NET_RULE = pa.Check(lambda df: ~(((df["net_stance"] == "divergence") & (df["n_divergence"] <= df["n_convergence"]))
                                 | ((df["net_stance"] == "convergence") & (df["n_convergence"] <= df["n_divergence"]))).any(),
                    error="net_stance contradicts the counts")

#: how a table's topic cell found its topic (pipeline.tables.topics)
TOPIC_METHODS = ["alias", "similarity", "adhoc", "none"]

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "segments": pa.DataFrameSchema(SEGMENT_COLUMNS, strict=True, ordered=True),
    "sentences": pa.DataFrameSchema(
        {**SEGMENT_COLUMNS, "actors": _s(), "topics": _s(), **STANCE_COLUMNS, "cues": _s()}, strict=True, ordered=True),
    "records": pa.DataFrameSchema({
        "article_id": _s(), "sentence_id": _i(), "actor_a": _s(), "actor_b": _s(),
        "pair_source": _s(checks=pa.Check.isin(["explicit", "implied", "intro"])),
        "source_actor": _s(), "target_actor": _s(), "topic": _s(),
        **STANCE_COLUMNS, "p_none": _f(_PROB), "cues": _s(), "evidence": _s(), "section": _s(), "block_kind": _s(),
        "start": _i(), "end": _i(), "model_id": _s(),
    }, strict=True, ordered=True, checks=[
        pa.Check(lambda df: (df["actor_a"] < df["actor_b"]).all(), error="actor pairs must be ordered a < b"),
        pa.Check(lambda df: ((df["source_actor"] == "") | (df["source_actor"] == df["actor_a"])
                             | (df["source_actor"] == df["actor_b"])).all(), error="source_actor must be one of the pair"),
        pa.Check(lambda df: (df["stance"] != "none").all(), error="a record is never 'none'"),
    ]),
    "relations": pa.DataFrameSchema({
        "article_id": _s(), "date": _s(), "actor_a": _s(), "actor_b": _s(), **SUMMARY_COLUMNS,
        "n_a_to_b": _i(), "n_b_to_a": _i(), "topics": _s(),
    }, strict=True, ordered=True, checks=[NET_RULE]),
    "topics": pa.DataFrameSchema({
        "article_id": _s(), "actor_a": _s(), "actor_b": _s(), "topic": _s(), **SUMMARY_COLUMNS,
        "position_a": _s(), "position_b": _s(),
    }, strict=True, ordered=True, checks=[NET_RULE]),
    "tables": pa.DataFrameSchema({
        "article_id": _s(), "table_index": _i(), "row_index": _i(), "section": _s(), "header": _s(),
        "topic_cell": _s(), "topic": _s(), "topic_method": _s(checks=pa.Check.isin(TOPIC_METHODS)),
        "topic_score": _f(checks=pa.Check.in_range(0.0, 1.0 + 1e-9)), "actor_a": _s(), "actor_b": _s(),
        "column_a": _s(), "column_b": _s(), "position_a": _s(), "position_b": _s(), "other_cells": _s(),
        **STANCE_COLUMNS, "stance_from": _s(checks=pa.Check.isin(["positions", "row text"])), "text": _s(),
    }, strict=True, ordered=True),
    "check": pa.DataFrameSchema({
        "article_id": _s(), "table_index": _i(), "row_index": _i(), "topic_cell": _s(), "topic": _s(),
        "topic_method": _s(checks=pa.Check.isin(TOPIC_METHODS)),
        "table_stance": _s(checks=_LABEL), "prose_stance": _s(), "prose_mean_score": _f(nullable=True),
        "n_supporting": _i(), "n_prose": _i(), "n_convergence": _i(), "n_divergence": _i(),
        "status": _s(checks=pa.Check.isin(["agree", "disagree", "missing"])),
        "reason": _s(checks=pa.Check.isin(list(CHECK_REASONS))), "evidence_sentence_ids": _s(),
    }, strict=True, ordered=True),
    "errors": pa.DataFrameSchema({
        "path": _s(), "line": _i(nullable=True), "stage": _s(), "severity": _s(checks=pa.Check.isin(["error", "warning"])),
        "article_id": _s(), "reason": _s(),
    }, strict=True, ordered=True),
    "articles": pa.DataFrameSchema({
        "article_id": _s(), "path": _s(), "line": _i(nullable=True), "title": _s(), "date": _s(), "source": _s(), "url": _s(),
        "content_hash": _s(), "n_sentences": _i(), "n_records": _i(), "n_tables": _i(), "model_id": _s(),
    }, strict=True, ordered=True),
}


def frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """Build the DataFrame of table ``name`` from row dicts, in schema column order and
    dtypes, and validate it."""
    schema = SCHEMAS[name]
    cols = list(schema.columns)
    try:
        df = pd.DataFrame(rows, columns=cols)
    except UnicodeEncodeError:  # a lone surrogate somewhere (pandas' Arrow strings refuse it)
        rows = [{k: encodable(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]
        df = pd.DataFrame(rows, columns=cols)
    for col, spec in schema.columns.items():
        dtype = str(spec.dtype)
        if dtype == "Int64":
            df[col] = pd.array(df[col].tolist(), dtype="Int64") if len(df) else pd.Series([], dtype="Int64")
        elif dtype.startswith("float"):
            df[col] = df[col].astype("float64")
        else:
            s = df[col]
            df[col] = encodable_column(s.where(s.notna(), "").astype(str))  # None / NaN -> "", anything else str()
    return schema.validate(df, lazy=True)


def encodable(text: str) -> str:
    """``text`` as valid UTF-8: a lone surrogate (from a JSON ``\\ud800`` escape, or a file
    name's undecodable bytes, which Python keeps as surrogates) becomes its escape
    (``\\ud800``); everything else is kept as it is."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def encodable_column(col: pd.Series) -> pd.Series:
    """:func:`encodable` over a column of str, with one check for the common case."""
    try:
        "\x00".join(col.tolist()).encode("utf-8")
        return col
    except UnicodeEncodeError:
        return col.map(encodable)
