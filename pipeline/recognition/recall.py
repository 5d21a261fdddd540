"""Actor recall and precision of the recogniser against annotated sentences.

An annotation file (``corpus/eval/actor_recall*.csv``) lists, for each sentence, every
reference to a state, bloc or intergovernmental organisation an annotator found, as JSON
``[{"text": "the Kremlin", "code": "RUS"}, …]``. A reference counts as found when a mention
of the same code overlaps it; a mention counts as right when it overlaps a reference of its
code (mentions of places, which annotators do not list, lower precision).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from pipeline.recognition import doc_mentions


def actor_recall(path: str | Path, nlp) -> dict:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    gold_n = found = mentions_n = right = 0
    misses: Counter = Counter()
    for row, doc in zip(rows, nlp.pipe(r["text"] for r in rows)):
        text = row["text"]
        ms = [m for m in doc_mentions(doc, 0, text) if m.kind == "actor"]
        gold, pos = [], 0
        for ref in json.loads(row["actors"]):
            i = text.find(ref["text"], pos)
            i = text.find(ref["text"]) if i < 0 else i
            gold.append((i, i + len(ref["text"]), ref["code"]))
            pos = i + 1
        for s, e, code in gold:
            gold_n += 1
            if any(m.start < e and m.end > s and m.code == code for m in ms):
                found += 1
            else:
                misses[(code, text[s:e])] += 1
        for m in ms:
            mentions_n += 1
            right += any(m.start < e and m.end > s and m.code == code for s, e, code in gold)
    return {"sentences": len(rows), "references": gold_n, "recall": round(found / gold_n, 4) if gold_n else None,
            "mentions": mentions_n, "precision": round(right / mentions_n, 4) if mentions_n else None,
            "misses": [f"{c}: {t}" for (c, t), _ in misses.most_common()]}
