"""The rows of ``tables.csv``: each data row of a hand-made table with its actors, its
topic (matched by :mod:`pipeline.tables.topics`) and its row stance.

The row stance comes from the row classifier (:mod:`pipeline.tables.model`), which reads
the two position cells as two texts, when the table has a position column for each side;
a table with one text column ("Dialogue Focus | Potential Outcome") takes the sentence
classifier's stance of the row text, as before. ``stance_from`` says which.
"""

from __future__ import annotations

import pipeline._spacy  # noqa: F401  (spaCy without PyTorch)
from spacy.language import Language

from pipeline.contracts import Article, Prediction
from pipeline.recognition import TOPIC_KEY
from pipeline.tables.layout import HeaderRule, _first, read_layout
from pipeline.tables.topics import TopicMatch, TopicMatcher


def _stance_columns(p: Prediction | None) -> dict:
    if p is None:
        return {"stance": "neutral", "score": 0.0, "p_convergence": 0.0, "p_divergence": 0.0, "p_neutral": 1.0}
    return {"stance": p.stance, "score": round(p.score, 6), "p_convergence": round(p.p_convergence, 6),
            "p_divergence": round(p.p_divergence, 6), "p_neutral": round(p.p_neutral, 6)}


def table_rows(
    article: Article,
    nlp: Language,
    rules: list[HeaderRule],
    row_predictions: dict[tuple[int, int], Prediction],
    *,
    context: tuple[str, str] | None,
    matcher: TopicMatcher | None = None,
    row_model=None,
) -> tuple[list[dict], dict[tuple[int, int], TopicMatch]]:
    """Rows of ``tables.csv`` for one article, and each row's topic match (by
    (table_index, row_index)) for the check. ``row_predictions``: the sentence classifier's
    stance of each row text; ``row_model``: a :class:`pipeline.tables.model.TableModel`
    (or None: every row takes the sentence classifier's stance)."""
    out, matches, pairs, pair_rows = [], {}, [], []
    for table in article.tables:
        layout = read_layout(table, nlp, rules)
        actors = list(layout.actor_columns)
        if len(actors) < 2 and context:
            # a table with one or no actor column speaks about the article's main pair
            named = {code for _, code in actors}
            fill = [c for c in context if c not in named]
            actors += [(-1, c) for c in fill][: 2 - len(actors)]
        (ca, a), (cb, b) = (actors + [(-1, ""), (-1, "")])[:2]
        if a and b and b < a:
            (ca, a), (cb, b) = (cb, b), (ca, a)
        tcol = layout.topic_column
        topic_cells = [row.cells[tcol] if tcol is not None and tcol < len(row.cells) else "" for row in table.rows]
        topic_docs = list(nlp.pipe(topic_cells))
        for row, tcell, tdoc in zip(table.rows, topic_cells, topic_docs):
            cell = lambda i: row.cells[i] if 0 <= i < len(row.cells) else ""  # noqa: E731
            others = "; ".join(f"{table.header[i]}: {cell(i)}" for i in layout.other_columns if i < len(table.header) and cell(i))
            alias = _first(tdoc, TOPIC_KEY)
            if matcher is not None:
                m = matcher.match(tcell, alias)
            else:
                m = TopicMatch(alias, "alias", 1.0) if alias else TopicMatch("", "none", 0.0)
            matches[(table.index, row.index)] = m
            pos_a, pos_b = (cell(ca) if ca >= 0 else ""), (cell(cb) if cb >= 0 else "")
            two = ca >= 0 and cb >= 0 and row_model is not None and (pos_a.strip() or pos_b.strip())
            out.append({
                "article_id": article.id, "table_index": table.index, "row_index": row.index, "section": table.section,
                "header": ";".join(table.header), "topic_cell": tcell, "topic": m.topic,
                "topic_method": m.method, "topic_score": float(m.score),
                "actor_a": a, "actor_b": b,
                "column_a": table.header[ca] if ca >= 0 else "", "column_b": table.header[cb] if cb >= 0 else "",
                "position_a": pos_a, "position_b": pos_b, "other_cells": others,
                **_stance_columns(row_predictions.get((table.index, row.index))),
                "stance_from": "positions" if two else "row text", "text": row.text,
            })
            if two:
                pairs.append((pos_a, pos_b))
                pair_rows.append(out[-1])
    if pairs:  # one call for the article's two-position rows
        for r, p in zip(pair_rows, row_model.predict(pairs)):
            r.update(_stance_columns(p))
    return out, matches
