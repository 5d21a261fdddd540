"""Training and scoring the relation classifier on pair-level annotations.

Pair annotations (``corpus/annotations/pairs.csv``) hold one row per (sentence, pair):
the sentence, its article context (main pair, most-mentioned actors), the pair, its
label (``none`` or a stance), the source actor, and whether the annotator added the pair
(the software did not propose it). A row with an empty pair records a sentence that was
read and found to be about no pair.

Features are recomputed from the text at training time (recognition, mention rules,
candidates), so a change to the vocabularies is reflected; a candidate without a label
(a pair the annotator never saw) is left out of training, and a labelled pair the
candidates no longer produce counts as a miss in the scores.

Scores are for the whole system on a sentence: the pairs it outputs (label not ``none``)
against the annotated ones: pair precision / recall / F1, (pair, stance) F1, and stance
macro-F1 over the pairs found, next to two baselines: the pipeline before this stage
("every pair the sentence's stance, context pair for the rest") and "explicit pairs
only, sentence stance".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from pipeline.contracts import Candidate, Mention, Prediction, Sentence
from pipeline.labels import LABELS, NONE, RELATION_LABELS
from pipeline.modelling.training import metrics, select, shift_intercepts
from pipeline.recognition import doc_mentions
from pipeline.relations.candidates import CandidateRules, actor_mentions, sentence_candidates
from pipeline.relations.features import ArticleContext, feature_rows
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from pipeline.relations.model import DIRECTIONS, RelationModel, build_relation_pipeline, roles, slim_pair

PAIR_COLUMNS = ("uid", "text", "source", "article_id", "main_pair", "top_actors", "block_kind", "pair", "pair_source",
                "label", "source_actor", "added", "annotator")


@dataclass
class PairSentence:
    """One annotated sentence: its text, article context and gold pairs."""

    uid: str
    text: str
    source: str
    article_id: str
    block_kind: str
    context: ArticleContext
    gold: dict[str, tuple[str, str]] = field(default_factory=dict)  # "A-B" -> (label, source actor)
    intro_pairs: tuple[str, ...] = ()

    def relevant(self) -> dict[str, str]:
        """Gold pairs whose relation the sentence is about -> stance."""
        return {p: lab for p, (lab, _) in self.gold.items() if lab != NONE}


def read_pairs(paths: Sequence[str | Path]) -> list[PairSentence]:
    """Read pair annotation CSVs into one :class:`PairSentence` per sentence uid."""
    frames = []
    for p in paths:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
        missing = [c for c in ("uid", "text", "pair", "label") if c not in df.columns]
        if missing:
            raise ValueError(f"{p}: missing column(s) {', '.join(missing)} (pair annotations: {', '.join(PAIR_COLUMNS)})")
        bad = sorted(set(df["label"]) - set(RELATION_LABELS) - {""})
        if bad:
            raise ValueError(f"{p}: unknown label(s) {bad}; allowed: {', '.join(RELATION_LABELS)}")
        for col in PAIR_COLUMNS:
            if col not in df.columns:
                df[col] = ""
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    out: dict[str, PairSentence] = {}
    for r in df.itertuples(index=False):
        ps = out.get(r.uid)
        if ps is None:
            mp = tuple(sorted(r.main_pair.split("-"))) if r.main_pair.count("-") == 1 else None
            counts = {}
            for tok in r.top_actors.split():
                code, _, n = tok.rpartition(":")
                if code and n.isdigit():
                    counts[code] = int(n)
            ps = out[r.uid] = PairSentence(r.uid, r.text, r.source, r.article_id or r.uid, r.block_kind or "paragraph",
                                           ArticleContext(mp, counts))
        if r.pair:
            ps.gold[r.pair] = (r.label, r.source_actor if r.label != NONE else "")
            if r.pair_source == "intro":
                ps.intro_pairs = ps.intro_pairs + (r.pair,)
    return list(out.values())


@dataclass
class Featurized:
    """Candidates of annotated sentences, with their features and gold labels."""

    sentences: list[PairSentence]
    frame: pd.DataFrame  # one row per candidate
    candidates: list[Candidate]
    owner: np.ndarray  # index into ``sentences`` of each candidate
    labels: list[str | None]  # gold label per candidate (None: not annotated)
    directions: list[str | None]  # gold direction per candidate (first / second / symmetric)
    predictions: list[Prediction]  # the sentence classifier's, per sentence
    raw_actors: list[list[str]]  # per sentence: actor codes before the mention rules, in order

    def rows(self, sentence_idx: Sequence[int]) -> np.ndarray:
        keep = np.isin(self.owner, np.asarray(list(sentence_idx), dtype=int))
        return np.flatnonzero(keep)


def featurize(sentences: list[PairSentence], nlp, rules: CandidateRules,
              predict: Callable[[list[str]], list[Prediction]] | None, lexicon=None,
              predictions: list[Prediction] | None = None) -> Featurized:
    """Recognise, generate candidates and build features for annotated sentences
    (``predict``: the sentence classifier, or its ``predictions`` made beforehand, e.g.
    cross-fitted; ``lexicon``: its cue lexicon)."""
    preds = predictions if predictions is not None else predict([s.text for s in sentences])
    items, cands, owner, labels, dirs, raw = [], [], [], [], [], []
    for i, (ps, doc) in enumerate(zip(sentences, nlp.pipe([s.text for s in sentences]))):
        sent = Sentence(ps.article_id, 0, ps.block_kind, "", 0, len(ps.text), ps.text)
        ms: list[Mention] = doc_mentions(doc, 0, ps.text)
        raw.append(list(dict.fromkeys(m.code for m in ms if m.kind == "actor")))
        actors, _ = actor_mentions(sent, ms, rules)
        cs, _ = sentence_candidates(sent, actors, main_pair=ps.context.main_pair, rules=rules)
        have = {f"{c.actor_a}-{c.actor_b}" for c in cs}
        for pair in ps.intro_pairs:
            if pair not in have and pair.count("-") == 1:
                a, b = pair.split("-")
                cs.append(Candidate(0, a, b, "intro", None, None, "", len({m.code for m in actors})))
        for c in cs:
            key = f"{c.actor_a}-{c.actor_b}"
            gold = ps.gold.get(key)
            items.append((sent, actors, c, preds[i], ps.context))
            cands.append(c)
            owner.append(i)
            labels.append(gold[0] if gold else None)
            d = None
            if gold and gold[0] != NONE:
                x, y = roles(c)
                d = "first" if gold[1] == x else "second" if gold[1] == y else "symmetric"
            dirs.append(d)
    frame = feature_rows(items, rules.alias_kinds, lexicon)
    return Featurized(sentences, frame, cands, np.asarray(owner, dtype=int), labels, dirs, preds, raw)


def sentence_labels(sentences: list[PairSentence], idx: Sequence[int]) -> pd.DataFrame:
    """Sentence-level training rows derived from pair annotations: a sentence whose
    related pairs all have one stance gets that stance (``text, stance, article_id,
    source``); sentences with mixed stances or no related pair give none."""
    rows = []
    for i in idx:
        stances = set(sentences[i].relevant().values())
        if len(stances) == 1:
            p = sentences[i]
            rows.append((p.text, stances.pop(), p.article_id, p.source))
    return pd.DataFrame(rows, columns=["text", "stance", "article_id", "source"])


# -- fitting ------------------------------------------------------------------------
def fit_relation(F: Featurized, rows: np.ndarray, *, seed: int, c_grid: Sequence[float] = (0.5, 1.0, 2.0),
                 folds: int = 5, cv_groups: str = "article") -> tuple[RelationModel, dict]:
    """Fit the relation and direction pipelines on the labelled candidates among ``rows``
    (C and the class offsets chosen by cross-validation grouped by ``cv_groups``: article,
    or source, so that they are chosen for text from a source the fold has not seen)."""
    if cv_groups not in ("article", "source"):
        raise ValueError(f"cv_groups must be 'article' or 'source', not {cv_groups!r}")
    rows = np.asarray([r for r in rows if F.labels[r] is not None], dtype=int)
    X = F.frame.iloc[rows].reset_index(drop=True)
    y = np.asarray([F.labels[r] for r in rows])
    by = (lambda p: p.source or p.article_id) if cv_groups == "source" else (lambda p: p.article_id)
    groups = np.asarray([by(F.sentences[F.owner[r]]) for r in rows])
    sel = select(lambda C: build_relation_pipeline(C=C, seed=seed), X, y, groups, labels=RELATION_LABELS,
                 c_grid=c_grid, folds=folds, seed=seed, abstain=NONE)
    relation = slim_pair(build_relation_pipeline(C=sel.C, seed=seed).fit(X, y))
    shift_intercepts(relation.named_steps["clf"], sel.offsets, sel.classes)
    drows = np.asarray([i for i, r in enumerate(rows) if F.directions[r] is not None], dtype=int)
    direction = None
    dcounts = {}
    if len(drows) >= 20:
        dy = np.asarray([F.directions[rows[i]] for i in drows])
        dcounts = {d: int((dy == d).sum()) for d in DIRECTIONS}
        if len(set(dy.tolist())) >= 2:
            # the direction classifier reads the relation classifier's features (one set of
            # vocabularies to store, load and compute)
            features = relation.named_steps["features"]
            clf = LogisticRegression(C=sel.C, class_weight="balanced", max_iter=5000, random_state=seed)
            clf.fit(features.transform(X.iloc[drows]), dy)
            direction = Pipeline([("features", features), ("clf", clf)])
    info = {"C": sel.C, "cv_groups": cv_groups, "offsets_maximise": "(pair, stance) F1 of the candidates",
            "class_offsets": {str(c): round(float(o), 3) for c, o in zip(sel.classes, sel.offsets)},
            "train_items": int(len(rows)), "label_counts": {l: int((y == l).sum()) for l in RELATION_LABELS},
            "direction_counts": dcounts,
            "cross_validated": {"macro_f1_by_C": {str(c): sel.scores[c]["macro_f1"] for c in c_grid},
                                "best": sel.scores[sel.C], "with_offsets": sel.tuned}}
    return RelationModel(relation, direction), info


# -- scoring ------------------------------------------------------------------------
def system_output(F: Featurized, model: RelationModel, sentence_idx: Sequence[int]) -> dict[int, dict[str, tuple[str, str]]]:
    """What the system says about each sentence: pair -> (stance, source actor)."""
    out: dict[int, dict[str, tuple[str, str]]] = {i: {} for i in sentence_idx}
    rows = F.rows(sentence_idx)
    if not len(rows):
        return out
    decisions = model.predict(F.frame.iloc[rows].reset_index(drop=True), [F.candidates[r] for r in rows])
    for r, d in zip(rows, decisions):
        if d.label != NONE:
            c = F.candidates[r]
            out[int(F.owner[r])][f"{c.actor_a}-{c.actor_b}"] = (d.label, d.source_actor)
    return out


def baseline_output(F: Featurized, sentence_idx: Sequence[int], *, context: bool) -> dict[int, dict[str, tuple[str, str]]]:
    """The two baselines: every pair of the (unfiltered) actors gets the sentence's stance;
    with ``context``, as the pipeline did before relations: at most 4 actors, and a
    sentence naming fewer than two gets the article's main pair (a single actor outside it
    is paired with the most-mentioned actor)."""
    out = {}
    for i in sentence_idx:
        ps, stance = F.sentences[i], F.predictions[i].stance
        actors = F.raw_actors[i][:4] if context else F.raw_actors[i]
        pairs = [tuple(sorted(p)) for p in combinations(actors, 2)]
        mp = ps.context.main_pair
        if context and len(actors) < 2 and mp:
            ranked = sorted(mp, key=lambda c: -ps.context.counts.get(c, 0))
            if len(actors) == 1 and actors[0] not in mp:
                pairs = [tuple(sorted((actors[0], ranked[0])))]
            else:
                pairs = [tuple(sorted(mp))]
        out[i] = {f"{a}-{b}": (stance, "") for a, b in pairs}
    return out


def score(F: Featurized, output: dict[int, dict[str, tuple[str, str]]]) -> dict:
    """Pair detection P/R/F1, (pair, stance) F1 and stance macro-F1 on the pairs found."""
    tp = fp = fn = tp3 = 0
    y_true, y_pred = [], []
    dir_right = dir_total = 0
    for i, pred in output.items():
        gold = F.sentences[i].gold
        rel = {p: v for p, v in gold.items() if v[0] != NONE}
        for p, (lab, src) in pred.items():
            if p in rel:
                tp += 1
                y_true.append(rel[p][0])
                y_pred.append(lab)
                tp3 += rel[p][0] == lab
                if rel[p][1] or src:
                    dir_total += 1
                    dir_right += rel[p][1] == src
            else:
                fp += 1
        fn += sum(1 for p in rel if p not in pred)

    def prf(t, n_pred, n_gold):
        p = t / n_pred if n_pred else 0.0
        r = t / n_gold if n_gold else 0.0
        return round(p, 4), round(r, 4), round(2 * p * r / (p + r), 4) if p + r else 0.0

    p, r, f = prf(tp, tp + fp, tp + fn)
    p3, r3, f3 = prf(tp3, tp + fp, tp + fn)
    stance = metrics(y_true, y_pred, LABELS)
    return {"sentences": len(output), "gold_pairs": tp + fn, "predicted_pairs": tp + fp,
            "pair": {"precision": p, "recall": r, "f1": f},
            "triple": {"precision": p3, "recall": r3, "f1": f3},
            "stance_on_found": {"n": stance["n"], "macro_f1": stance["macro_f1"], "accuracy": stance["accuracy"]},
            "direction_on_found": {"n": dir_total, "accuracy": round(dir_right / dir_total, 4) if dir_total else None}}


def evaluate(F: Featurized, model: RelationModel, sentence_idx: Sequence[int]) -> dict:
    """The model and the two baselines on the same sentences."""
    idx = list(sentence_idx)
    return {"model": score(F, system_output(F, model, idx)),
            "baseline_sentence_stance_context_pairs": score(F, baseline_output(F, idx, context=True)),
            "baseline_explicit_pairs_sentence_stance": score(F, baseline_output(F, idx, context=False))}


def format_scores(results: dict[str, dict]) -> str:
    """A plain-text table of :func:`evaluate`'s output."""
    names = {"model": "model", "baseline_sentence_stance_context_pairs": "every pair+context",
             "baseline_explicit_pairs_sentence_stance": "explicit+sentence"}
    head = f"{'':28}" + "".join(f"{names.get(n, n):>22}" for n in results)
    rows = [head]
    for label, get in (
        ("pair precision", lambda r: r["pair"]["precision"]), ("pair recall", lambda r: r["pair"]["recall"]),
        ("pair F1", lambda r: r["pair"]["f1"]), ("(pair, stance) F1", lambda r: r["triple"]["f1"]),
        ("stance macro-F1 on found", lambda r: r["stance_on_found"]["macro_f1"]),
    ):
        rows.append(f"{label:28}" + "".join(f"{get(r):>22.3f}" for r in results.values()))
    first = next(iter(results.values()))
    rows.append(f"{'sentences / gold pairs':28}{first['sentences']:>22} / {first['gold_pairs']}")
    return "\n".join(rows)
