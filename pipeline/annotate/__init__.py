"""``stance annotate``: pick what to label next, hand it to an annotation tool, read the
answers back into the project's annotation CSVs.

Selection (:func:`select`) reads a run's output folder or a store through the report's
data layer and proposes two kinds of items:

* **pair items**: a relation record (sentence, actor pair), with the relation
  classifier's suggestion; uncertainty is 1 − (top probability − runner-up) over
  ``none`` and the three stances, so a record the model nearly dropped (``p_none`` near the
  top stance) ranks high;
* **sentence items**: a sentence naming at least one actor, with the sentence
  classifier's stance; uncertainty from its three probabilities the same way.

Items already annotated or in the evaluation set (same text after whitespace folding) are
left out. Diversity: items are grouped by (source, pair, topic) and taken round-robin,
the most uncertain of each group first, so ``-n 50`` does not spend itself on one pair.

Formats (:func:`export` / :func:`read_answers`): the project's CSV (label empty), Label
Studio JSON tasks (with the model's suggestion as a prediction), Prodigy JSONL (choice
options, suggestion in ``meta``). Answers come back as pair items in the format of
``corpus/annotations/pairs.csv`` and sentences in that of ``news_sentences.csv``, with
the annotator and provenance (``added``: the answer file and date).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.labels import LABELS, NONE, RELATION_LABELS

FORMATS = ("csv", "labelstudio", "prodigy")
#: keyboard shortcuts of the built-in labeller (and the choices' order in every format)
KEYS = {"1": "convergence", "2": "divergence", "3": "neutral", "0": NONE}
ITEM_COLUMNS = ["item_id", "kind", "text", "pair", "actor_a", "actor_b", "article_id", "sentence_id", "source", "topic",
                "block_kind", "pair_source", "main_pair", "top_actors", "context", "suggestion", "suggestion_score",
                "uncertainty", "marks", "label", "source_actor", "annotator"]


class AnnotateError(ValueError):
    """One line for the user."""


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().lower()


def known_texts(paths: list[Path]) -> set[str]:
    """Texts of annotation or evaluation CSVs (any with a ``text`` column)."""
    out: set[str] = set()
    for p in paths:
        try:
            df = pd.read_csv(p, dtype=str, keep_default_na=False, usecols=lambda c: c == "text")
        except (ValueError, OSError):
            continue
        if "text" in df.columns:
            out.update(df["text"].map(_fold))
    return out


def default_exclusions(root: Path) -> list[Path]:
    return sorted((root / "corpus" / "annotations").glob("*.csv")) + sorted((root / "corpus" / "eval").rglob("*.csv"))


def _margin(p: np.ndarray) -> np.ndarray:
    top2 = np.sort(p, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def _item_id(*parts) -> str:
    return "a" + hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")).hexdigest()[:12]


def dropped_pairs(sents: pd.DataFrame, have: set[tuple[str, int, str]], ctx_cols, src: dict, model, *,
                  limit: int = 20_000, seed: int = 13) -> list[dict]:
    """Pair items for the candidate pairs the relation classifier dropped (``none``): they
    are in no output table, so the sentences naming two or more actors are read again
    (recognition, candidate pairs, features: the run's own stage functions) and the model's
    probabilities recomputed. At most ``limit`` sentences (a seeded sample beyond that)."""
    from pipeline.config import load_settings
    from pipeline.recognition import build_recogniser
    from pipeline.relations.candidates import load_rules
    from pipeline.relations.features import ArticleContext
    from pipeline.relations.training import PairSentence, featurize

    multi = sents[sents["actors"].astype(str).str.count(";") >= 1]
    if len(multi) > limit:
        multi = multi.sample(limit, random_state=seed)
    if multi.empty:
        return []
    settings = load_settings()
    pss, meta = [], []
    for r in multi.itertuples(index=False):
        c = ctx_cols(r.article_id)
        mp = tuple(sorted(c["main_pair"].split("-"))) if c["main_pair"] else None
        counts = {a: int(n) for a, _, n in (t.rpartition(":") for t in c["top_actors"].split()) if n.isdigit()}
        pss.append(PairSentence(f"{r.article_id}#{r.sentence_id}", r.text, src.get(r.article_id, ""), r.article_id,
                                r.block_kind, ArticleContext(mp, counts)))
        meta.append((r, c))
    F = featurize(pss, build_recogniser(settings), load_rules(settings), model.predict, model.lexicon)
    proba = model.relation.proba(F.frame)
    unc = _margin(proba) if len(proba) else []
    out = []
    for cand, owner, p, u in zip(F.candidates, F.owner, proba, unc):
        r, c = meta[int(owner)]
        pair = f"{cand.actor_a}-{cand.actor_b}"
        if (r.article_id, int(r.sentence_id), pair) in have or p[0] < p[1:].max():
            continue  # a record already (or the model would keep it)
        sid = int(r.sentence_id)
        out.append({"item_id": _item_id("pair", r.article_id, sid, cand.actor_a, cand.actor_b), "kind": "pair",
                    "text": r.text, "pair": pair, "actor_a": cand.actor_a, "actor_b": cand.actor_b,
                    "article_id": r.article_id, "sentence_id": sid, "source": src.get(r.article_id, ""),
                    "topic": str(r.topics).split(";")[0] if r.topics else "", "block_kind": r.block_kind,
                    "pair_source": cand.pair_source, **c, "suggestion": NONE, "suggestion_score": round(float(p[0]), 4),
                    "uncertainty": round(float(u), 4)})
    return out


def candidates(d, exclude: set[str], model=None) -> pd.DataFrame:
    """Every item that could be proposed, with its uncertainty (report data layer ``d``;
    with ``model``, also the candidate pairs it dropped, see :func:`dropped_pairs`)."""
    art = d.df("select article_id, source from articles")
    src = dict(zip(art["article_id"], art["source"]))
    sents = d.df("select article_id, sentence_id, text, actors, topics, block_kind, stance, p_convergence, p_divergence, "
                 "p_neutral from raw_sentences where article_id in (select article_id from articles) and block_kind <> 'table' "
                 "order by article_id, sentence_id")
    # the article's most-mentioned actors (sentences naming each), for main_pair / top_actors
    counts: dict[str, dict[str, int]] = {}
    for aid, acts in zip(sents["article_id"], sents["actors"]):
        c = counts.setdefault(aid, {})
        for a in filter(None, str(acts).split(";")):
            c[a] = c.get(a, 0) + 1
    top = {aid: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for aid, c in counts.items()}
    text_of = {(a, int(s)): t for a, s, t in zip(sents["article_id"], sents["sentence_id"], sents["text"])}

    def context(aid: str, sid: int) -> str:
        return " ".join(text_of.get((aid, i), "") for i in (sid - 1, sid, sid + 1)).strip()

    def ctx_cols(aid: str) -> dict:
        t = top.get(aid, [])
        main = "-".join(sorted(a for a, n in t[:2])) if len(t) >= 2 and t[1][1] >= 2 else ""
        return {"main_pair": main, "top_actors": " ".join(f"{a}:{n}" for a, n in t[:6])}

    rec = d.df("select distinct article_id, sentence_id, actor_a, actor_b, pair_source, block_kind, topic, stance, "
               "p_convergence, p_divergence, p_neutral, p_none, evidence from records "
               "order by all")
    rec = rec.drop_duplicates(["article_id", "sentence_id", "actor_a", "actor_b"])
    rows = []
    if len(rec):
        unc = _margin(rec[["p_none", "p_convergence", "p_divergence", "p_neutral"]].to_numpy(float))
        for r, u in zip(rec.itertuples(index=False), unc):
            sid = int(r.sentence_id)
            rows.append({"item_id": _item_id("pair", r.article_id, sid, r.actor_a, r.actor_b), "kind": "pair",
                         "text": r.evidence, "pair": f"{r.actor_a}-{r.actor_b}", "actor_a": r.actor_a, "actor_b": r.actor_b,
                         "article_id": r.article_id, "sentence_id": sid, "source": src.get(r.article_id, ""),
                         "topic": r.topic, "block_kind": r.block_kind, "pair_source": r.pair_source,
                         **ctx_cols(r.article_id), "context": context(r.article_id, sid), "suggestion": r.stance,
                         "suggestion_score": round(float(max(r.p_convergence, r.p_divergence, r.p_neutral)), 4),
                         "uncertainty": round(float(u), 4)})
    if model is not None:
        have = {(a, int(s_), f"{x}-{y}") for a, s_, x, y in zip(rec["article_id"], rec["sentence_id"], rec["actor_a"], rec["actor_b"])}
        for row in dropped_pairs(sents, have, ctx_cols, src, model):
            row["context"] = context(row["article_id"], row["sentence_id"])
            rows.append(row)
    named = sents[sents["actors"].astype(str) != ""]
    if len(named):
        unc = _margin(named[["p_convergence", "p_divergence", "p_neutral"]].to_numpy(float))
        for r, u in zip(named.itertuples(index=False), unc):
            sid = int(r.sentence_id)
            acts = [a for a in str(r.actors).split(";") if a]
            rows.append({"item_id": _item_id("sentence", r.article_id, sid), "kind": "sentence", "text": r.text,
                         "pair": "", "actor_a": "", "actor_b": "", "article_id": r.article_id, "sentence_id": sid,
                         "source": src.get(r.article_id, ""), "topic": str(r.topics).split(";")[0] if r.topics else "",
                         "block_kind": r.block_kind, "pair_source": "", **ctx_cols(r.article_id),
                         "context": context(r.article_id, sid), "suggestion": r.stance,
                         "suggestion_score": round(float(max(r.p_convergence, r.p_divergence, r.p_neutral)), 4),
                         "uncertainty": round(float(u), 4), "_actors": "-".join(sorted(acts)[:2])})
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    # the store's queries come back in no fixed order (DuckDB scans in parallel): sorted
    # here so that a seeded selection picks the same items on every machine
    df = df[~df["text"].map(_fold).isin(exclude)].sort_values("item_id", kind="stable").reset_index(drop=True)
    for col in ("marks", "label", "source_actor", "annotator"):
        df[col] = ""
    return df


def mark_pairs(items: pd.DataFrame) -> pd.DataFrame:
    """Fill ``marks`` (``start-end;…``: the character spans of the pair's actor mentions,
    or of every actor for a sentence item) with the run's recogniser, so that a labeller
    can show the pair in the sentence."""
    from pipeline.report.article_view import find_mentions, recogniser

    if items.empty:
        return items
    found = find_mentions(items["text"].tolist(), recogniser())
    marks = []
    for (kind, a, b), ms in zip(zip(items["kind"], items["actor_a"], items["actor_b"]), found):
        keep = [(st, en) for st, en, k, code in ms if k == "actor" and (kind != "pair" or code in (a, b))]
        marks.append(";".join(f"{st}-{en}" for st, en in keep))
    return items.assign(marks=marks)


def select(items: pd.DataFrame, n: int, seed: int = 13, kinds: tuple[str, ...] = ("pair", "sentence")) -> pd.DataFrame:
    """``n`` items: the most uncertain first, round-robin over (kind, source, pair, topic)
    groups so that no group takes them all; ties broken by a seeded shuffle."""
    items = items[items["kind"].isin(kinds)]
    if items.empty or n <= 0:
        return items.iloc[:0][ITEM_COLUMNS]
    rng = np.random.default_rng(seed)
    items = items.assign(_tie=rng.random(len(items)))
    pair_key = items["pair"].where(items["pair"] != "", items.get("_actors", pd.Series("", index=items.index)).fillna(""))
    items = items.assign(_group=items["kind"] + "|" + items["source"] + "|" + pair_key + "|" + items["topic"])
    items = items.sort_values(["uncertainty", "_tie"], ascending=[False, True])
    # groups in the order of their most uncertain item; each round takes one item per group
    items["_round"] = items.groupby("_group").cumcount()
    first = items.groupby("_group")["uncertainty"].transform("max")
    items = items.assign(_first=first).sort_values(["_round", "_first", "_tie"], ascending=[True, False, True])
    chosen = items.head(n)
    return chosen.sort_values(["uncertainty", "_tie"], ascending=[False, True])[ITEM_COLUMNS].reset_index(drop=True)


# -- formats ---------------------------------------------------------------------------

def _choices() -> list[str]:
    return [KEYS[k] for k in ("1", "2", "3", "0")]


def export(items: pd.DataFrame, fmt: str, model_id: str = "") -> str:
    """The items as a file's text in ``fmt``."""
    if fmt == "csv":
        from pipeline.export import csv_text

        return csv_text(items[ITEM_COLUMNS])
    records = items[ITEM_COLUMNS].to_dict(orient="records")
    if fmt == "labelstudio":
        tasks = []
        for r in records:
            tasks.append({"data": {k: r[k] for k in ITEM_COLUMNS if k not in ("label", "annotator", "source_actor")},
                          "predictions": [{"model_version": model_id, "score": r["suggestion_score"], "result": [
                              {"from_name": "label", "to_name": "text", "type": "choices",
                               "value": {"choices": [r["suggestion"]]}}]}]})
        return json.dumps(tasks, ensure_ascii=False, indent=1) + "\n"
    if fmt == "prodigy":
        lines = []
        for r in records:
            shown = r["text"] if r["kind"] == "sentence" else f"{r['text']}\n[pair: {r['pair']}]"
            lines.append(json.dumps({"text": shown, "options": [{"id": c, "text": c} for c in _choices()],
                                     "meta": {k: r[k] for k in ITEM_COLUMNS if k not in ("label", "annotator", "source_actor", "text")},
                                     "_input_text": r["text"], "_task_hash": r["item_id"]}, ensure_ascii=False))
        return "\n".join(lines) + "\n"
    raise AnnotateError(f"unknown format {fmt!r}; choose {', '.join(FORMATS)}")


def labelstudio_config() -> str:
    """The Label Studio labelling configuration matching the exported tasks."""
    choices = "".join(f'<Choice value="{c}" hotkey="{k}"/>' for k, c in KEYS.items())
    return (f'<View><Header value="$pair"/><Text name="text" value="$text"/>'
            f'<Choices name="label" toName="text" choice="single">{choices}</Choices></View>')


def _row(data: dict, label: str, annotator: str) -> dict:
    out = {c: data.get(c, "") for c in ITEM_COLUMNS}
    out["label"], out["annotator"] = label, annotator or data.get("annotator", "") or ""
    return out


def read_answers(path: Path, annotator: str = "") -> pd.DataFrame:
    """Answered items from a CSV (the ``label`` column), a Label Studio JSON export
    (annotations' choices) or Prodigy JSONL (``answer: accept`` with one ``accept``
    option); unanswered and rejected items are left out."""
    text = Path(path).read_text(encoding="utf-8")
    rows = []
    stripped = text.lstrip()
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [c for c in ("item_id", "kind", "text", "label") if c not in df.columns]
        if missing:
            raise AnnotateError(f"{path}: not an annotate CSV (no {', '.join(missing)})")
        from pipeline.report.data import unneutralise

        for r in df.to_dict(orient="records"):
            if r["label"].strip():
                r = {k: unneutralise(v) for k, v in r.items()}
                rows.append(_row(r, r["label"].strip().lower(), annotator))
    elif stripped.startswith("["):
        try:
            tasks = json.loads(text)
        except ValueError as exc:
            raise AnnotateError(f"{path}: not valid JSON ({exc})") from None
        for t in tasks:
            anns = [a for a in t.get("annotations", []) if not a.get("was_cancelled")]
            if not anns:
                continue
            choice = [r for r in anns[-1].get("result", []) if r.get("type") == "choices"]
            if choice and choice[0].get("value", {}).get("choices"):
                who = annotator or str(anns[-1].get("completed_by", ""))
                rows.append(_row(t.get("data", {}), choice[0]["value"]["choices"][0], who))
    else:
        for i, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                eg = json.loads(line)
            except ValueError:
                raise AnnotateError(f"{path}:{i}: not a JSON line") from None
            if eg.get("answer") != "accept" or len(eg.get("accept", [])) != 1:
                continue
            data = dict(eg.get("meta", {}))
            data["text"] = eg.get("_input_text", eg.get("text", ""))
            rows.append(_row(data, eg["accept"][0], annotator or eg.get("_annotator_id", "")))
    df = pd.DataFrame(rows, columns=ITEM_COLUMNS)
    bad = df[~df["label"].isin(RELATION_LABELS)]
    if len(bad):
        raise AnnotateError(f"{path}: label {bad['label'].iloc[0]!r} is not one of {', '.join(RELATION_LABELS)}")
    return df


def to_annotations(answers: pd.DataFrame, origin: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(pair items as pairs.csv rows, sentences as news_sentences.csv rows, sentence
    answers ``none`` left out: the sentence format has three labels only)."""
    added = f"{origin} {date.today().isoformat()}"
    p = answers[answers["kind"] == "pair"]
    pairs = pd.DataFrame({
        "uid": ["u" + _item_id(a, s)[1:] for a, s in zip(p["article_id"], p["sentence_id"])],
        "text": p["text"], "source": p["source"], "article_id": p["article_id"], "main_pair": p["main_pair"],
        "top_actors": p["top_actors"], "block_kind": p["block_kind"], "pair": p["pair"], "pair_source": p["pair_source"],
        "label": p["label"], "source_actor": p["source_actor"].where(p["label"] != NONE, ""), "added": added,
        "annotator": p["annotator"]})
    s = answers[answers["kind"] == "sentence"]
    dropped = int((s["label"] == NONE).sum())
    s = s[s["label"].isin(LABELS)]
    sentences = pd.DataFrame({"text": s["text"], "stance": s["label"], "topic": s["topic"], "source": s["source"],
                              "article_id": s["article_id"], "annotator": s["annotator"],
                              "uid": ["s" + _item_id(a, i)[1:] for a, i in zip(s["article_id"], s["sentence_id"])],
                              "added": added})
    return pairs.reset_index(drop=True), sentences.reset_index(drop=True), dropped


@dataclass
class Selection:
    items: pd.DataFrame
    candidates: int
    excluded: int
