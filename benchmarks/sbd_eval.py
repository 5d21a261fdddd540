"""Sentence-boundary accuracy and speed on the real-news test set.

    python benchmarks/sbd_eval.py [--data corpus/eval/sentence_boundaries/passages.jsonl]
        [--only ours|sentencizer|pysbd ...] [--repeat 3] [--errors] [--json FILE]

Segments every passage of the test set (one paragraph of a real news article, with its gold
sentences: ``corpus/eval/sentence_boundaries/``) with

* ``ours``: ``pipeline.segmentation.build_segmenter(load_settings())``, applied to the
  passage as one Doc (exactly what ``segment()`` does with one paragraph block);
* ``sentencizer``: spaCy's plain rule-based ``sentencizer`` on ``spacy.blank("en")``;
* ``pysbd``: pySBD's English rules (``pip install -e '.[bench]'``; skipped if missing),

and prints a markdown table of boundary precision / recall / F1 (a boundary is the offset of
the first character of every sentence but the first of a passage), sentence accuracy (the
share of gold sentences whose two ends are both found: the sentence comes out exactly) and
passage accuracy (every boundary of the passage right), with the time taken to segment the
whole set (best of ``--repeat`` runs, building the segmenter not included) and its speed in
characters per second. ``--errors`` lists every missed and spurious boundary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "corpus" / "eval" / "sentence_boundaries" / "passages.jsonl"
sys.path.insert(0, str(ROOT))

Segmenter = Callable[[str], list[tuple[int, int]]]  # text -> sentence (start, end) spans


def load_passages(path: Path = DATA) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _trim(text: str, spans) -> list[tuple[int, int]]:
    """Spans without surrounding whitespace, empty ones dropped."""
    out = []
    for s, e in spans:
        piece = text[s:e]
        if not piece.strip():
            continue
        s += len(piece) - len(piece.lstrip())
        e -= len(piece) - len(piece.rstrip())
        out.append((s, e))
    return out


def gold_spans(p: dict) -> list[tuple[int, int]]:
    starts = [0, *p["boundaries"]]
    return _trim(p["text"], zip(starts, starts[1:] + [len(p["text"])]))


def spacy_segmenter(nlp) -> Segmenter:
    def run(text: str) -> list[tuple[int, int]]:
        doc = nlp(text)
        return _trim(text, [(s.start_char, s.end_char) for s in doc.sents])

    return run


def ours() -> Segmenter:
    from pipeline.config import load_settings
    from pipeline.segmentation import build_segmenter

    return spacy_segmenter(build_segmenter(load_settings()))


def sentencizer() -> Segmenter:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return spacy_segmenter(nlp)


def pysbd_segmenter() -> Segmenter:
    import pysbd

    seg = pysbd.Segmenter(language="en", clean=False)

    def run(text: str) -> list[tuple[int, int]]:
        # pySBD returns strings; find them in the text in order (char_span=True is slow
        # and sometimes misplaces repeated sentences)
        spans, pos = [], 0
        for sent in seg.segment(text):
            sent = sent.strip()
            if not sent:
                continue
            i = text.find(sent, pos)
            if i < 0:  # should not happen with clean=False; keep the rest as one sentence
                break
            spans.append((i, i + len(sent)))
            pos = i + len(sent)
        if pos < len(text) and text[pos:].strip():
            if spans:
                spans[-1] = (spans[-1][0], len(text))
            else:
                spans.append((0, len(text)))
        return _trim(text, spans)

    return run


SEGMENTERS: dict[str, Callable[[], Segmenter]] = {"ours": ours, "sentencizer": sentencizer, "pysbd": pysbd_segmenter}


def score(passages: list[dict], predicted: list[list[tuple[int, int]]]) -> dict:
    """Boundary precision / recall / F1, sentence and passage accuracy, and the errors."""
    tp = fp = fn = 0
    sent_ok = sent_n = pass_ok = 0
    errors = []
    for p, pred in zip(passages, predicted):
        gold = gold_spans(p)
        gb = {s for s, _ in gold[1:]}
        pb = {s for s, _ in pred[1:]}
        tp += len(gb & pb)
        fp += len(pb - gb)
        fn += len(gb - pb)
        ps = set(pred)
        sent_ok += sum(1 for g in gold if g in ps)
        sent_n += len(gold)
        pass_ok += gb == pb
        t = p["text"]
        for b in sorted(gb - pb):
            errors.append((p["id"], "missed", t[max(0, b - 40):b] + " ‖ " + t[b:b + 30]))
        for b in sorted(pb - gb):
            errors.append((p["id"], "spurious", t[max(0, b - 40):b] + " ‖ " + t[b:b + 30]))
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"boundaries": tp + fn, "tp": tp, "fp": fp, "fn": fn, "precision": prec, "recall": rec, "f1": f1,
            "sentences": sent_n, "sentence_accuracy": sent_ok / sent_n if sent_n else 1.0,
            "passages": len(passages), "passage_accuracy": pass_ok / len(passages) if passages else 1.0,
            "errors": errors}


def evaluate(name: str, passages: list[dict], repeat: int = 3) -> dict:
    seg = SEGMENTERS[name]()
    texts = [p["text"] for p in passages]
    seg(texts[0])  # warm-up (lazy initialisation)
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        predicted = [seg(t) for t in texts]
        best = min(best, time.perf_counter() - t0)
    out = score(passages, predicted)
    out.update(name=name, seconds=best, chars_per_s=sum(map(len, texts)) / best if best else 0.0)
    return out


def table(results: list[dict]) -> str:
    rows = ["| segmenter | precision | recall | F1 | sentence acc. | passage acc. | FP | FN | time (s) | chars/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        rows.append(f"| {r['name']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | "
                    f"{r['sentence_accuracy']:.3f} | {r['passage_accuracy']:.3f} | {r['fp']} | {r['fn']} | "
                    f"{r['seconds']:.3f} | {r['chars_per_s']:,.0f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--only", nargs="*", choices=list(SEGMENTERS), default=list(SEGMENTERS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--errors", action="store_true", help="list every missed and spurious boundary")
    ap.add_argument("--json", type=Path, help="also write the figures (without the errors) as JSON")
    args = ap.parse_args(argv)
    passages = load_passages(args.data)
    results = []
    for name in args.only:
        try:
            results.append(evaluate(name, passages, args.repeat))
        except ImportError as exc:
            print(f"skipped {name}: {exc} (pip install -e '.[bench]')", file=sys.stderr)
    n_sent = sum(len(p["sentences"]) for p in passages)
    n_b = sum(len(p["boundaries"]) for p in passages)
    print(f"{len(passages)} passages, {n_sent} sentences, {n_b} boundaries ({args.data.name})\n")
    print(table(results))
    if args.errors:
        for r in results:
            print(f"\n## {r['name']}: {len(r['errors'])} errors")
            for pid, kind, ctx in r["errors"]:
                print(f"- {kind:8} {pid}: {ctx!r}")
    if args.json:
        args.json.write_text(json.dumps([{k: v for k, v in r.items() if k != "errors"} for r in results], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
