"""Merge pair annotations (sampled batches + annotators' label files) into the project's CSVs.

    python corpus/build/collect_pairs.py --wave BATCH_DIR LABEL_DIR [--wave BATCH_DIR LABEL_DIR ...] [--pairs-out FILE]

Reads, for every annotation wave, ``BATCH_DIR/train_*.jsonl``, ``BATCH_DIR/eval_*.jsonl``,
``BATCH_DIR/double_batch.jsonl`` (made by ``sample_pairs.py``) and the label files
``LABEL_DIR/<annotator>_<batch>.jsonl``, and writes

* ``corpus/annotations/pairs.csv``: the training sentences, one row per (sentence, pair);
* ``corpus/eval/relations_articles.csv``: the whole evaluation articles (never trained on);
* ``corpus/annotations/pairs_agreement.csv``: the doubly annotated items, both labels.

With ``--pairs-out FILE`` the training items go to FILE instead (a new wave in a file of its
own, e.g. ``corpus/annotations/pairs_wave3.csv``, when the batch files of the earlier waves are
no longer at hand; a sentence id that ``pairs.csv`` already holds is an error), and the
evaluation and agreement files are written only if the waves given hold such batches.

A pair an annotator added (the software did not propose it) has ``added = 1``; a sentence
read and found to be about no pair has one row with an empty ``pair``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["uid", "text", "source", "article_id", "main_pair", "top_actors", "block_kind", "pair", "pair_source",
           "label", "source_actor", "added", "annotator"]
LABELS = {"none", "convergence", "divergence", "neutral"}


def norm_pair(p: str) -> str:
    a, _, b = p.strip().upper().partition("-")
    return "-".join(sorted((a.strip(), b.strip()))) if a and b else ""


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def label_rows(item: dict, ann: dict, annotator: str) -> list[dict]:
    base = {k: item.get(k, "") for k in ("text", "source", "article_id", "main_pair", "top_actors", "block_kind")}
    base["uid"] = item["sid"]
    sources = {c["pair"]: c["pair_source"] for c in item["candidates"]}
    rows, seen = [], set()
    for kind, entries in (("0", ann.get("labels", [])), ("1", ann.get("added", []))):
        for e in entries:
            pair = norm_pair(e.get("pair", ""))
            label = (e.get("label") or "").strip().lower()
            if not pair or pair in seen or label not in LABELS:
                continue
            seen.add(pair)
            src = (e.get("source") or "").strip().upper()
            if label == "none" or src not in pair.split("-"):
                src = ""
            rows.append({**base, "pair": pair, "pair_source": sources.get(pair, "added"), "label": label,
                         "source_actor": src, "added": kind, "annotator": annotator})
    missing = [p for p in sources if p not in seen]
    if missing:
        raise ValueError(f"{annotator} {item['sid']}: candidates not labelled: {missing}")
    if not rows:
        rows.append({**base, "pair": "", "pair_source": "", "label": "", "source_actor": "", "added": "0",
                     "annotator": annotator})
    return rows


def load(batches: Path, labels: Path, pattern: str) -> dict[str, list[tuple[str, dict, dict]]]:
    """batch name -> [(annotator, item, answer)] for every label file of that batch."""
    out: dict[str, list] = {}
    for lab in sorted(labels.glob("*.jsonl")):
        m = re.match(r"([A-Z]\d+)_(.+)\.jsonl$", lab.name)
        if not m or not re.fullmatch(pattern, m.group(2)):
            continue
        items = read_jsonl(batches / f"{m.group(2)}.jsonl")
        answers = {a["sid"]: a for a in read_jsonl(lab)}
        missing = [i["sid"] for i in items if i["sid"] not in answers]
        if missing:
            raise ValueError(f"{lab}: {len(missing)} sentences not labelled (first: {missing[:3]})")
        out.setdefault(m.group(2), []).extend((m.group(1), i, answers[i["sid"]]) for i in items)
    return out


def write(path: Path, rows: list[dict], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    print(f"{path.relative_to(ROOT)}: {len(rows)} rows")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--wave", nargs=2, action="append", type=Path, metavar=("BATCH_DIR", "LABEL_DIR"), required=True)
    ap.add_argument("--pairs-out", type=Path, help="write the training items here instead of corpus/annotations/pairs.csv")
    args = ap.parse_args()
    train, ev, dbl = {}, {}, {}
    for k, (batches, labels) in enumerate(args.wave):
        train.update({(k, n): v for n, v in load(batches, labels, r"train_(?:batch|articles)_\d+").items()})
        ev.update({(k, n): v for n, v in load(batches, labels, r"eval_[A-Z]").items()})
        dbl.update({(k, n): v for n, v in load(batches, labels, r"double_batch").items()})
    rows = [r for _, lst in sorted(train.items()) for ann, item, a in lst for r in label_rows(item, a, ann)]
    main_file = ROOT / "corpus/annotations/pairs.csv"
    separate = args.pairs_out is not None and args.pairs_out.resolve() != main_file.resolve()
    if separate:
        with open(main_file, encoding="utf-8", newline="") as fh:
            clash = sorted({r["uid"] for r in csv.DictReader(fh)} & {r["uid"] for r in rows})
        if clash:
            raise SystemExit(f"{main_file.name} already holds sentence ids of these waves (first: {clash[:3]}); "
                             f"draw them with another --prefix")
    write(args.pairs_out.resolve() if separate else main_file, rows, COLUMNS)
    rows = [r for _, lst in sorted(ev.items()) for ann, item, a in lst for r in label_rows(item, a, ann)]
    if rows or not separate:
        write(ROOT / "corpus/eval/relations_articles.csv", rows, COLUMNS)
    if separate and not dbl:
        return
    # agreement: the first annotator of a training sentence against the double batch's
    first = {item["sid"]: (ann, item, a) for lst in train.values() for ann, item, a in lst}
    agree = []
    for ann2, item, a2 in [x for lst in dbl.values() for x in lst]:
        ann1, _, a1 = first[item["sid"]]
        r1 = {r["pair"]: r for r in label_rows(item, a1, ann1) if r["pair"]}
        r2 = {r["pair"]: r for r in label_rows(item, a2, ann2) if r["pair"]}
        for pair in sorted(set(r1) | set(r2)):
            x, y = r1.get(pair), r2.get(pair)
            agree.append({"uid": item["sid"], "text": item["text"], "source": item["source"], "pair": pair,
                          "candidate": "1" if pair in {c["pair"] for c in item["candidates"]} else "0",
                          "label_first": x["label"] if x else "none", "label_second": y["label"] if y else "none",
                          "source_first": x["source_actor"] if x else "", "source_second": y["source_actor"] if y else "",
                          "annotator_first": ann1, "annotator_second": ann2})
    write(ROOT / "corpus/annotations/pairs_agreement.csv", agree,
          ["uid", "text", "source", "pair", "candidate", "label_first", "label_second", "source_first", "source_second",
           "annotator_first", "annotator_second"])


if __name__ == "__main__":
    main()
