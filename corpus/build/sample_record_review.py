#!/usr/bin/env python3
"""Draw a record review: unseen news articles, the pipeline's records on them, a random
sample of those records to be judged blind (docs/record_review/README.md).

    python corpus/build/sample_record_review.py NEWS_DIR --out DIR [--model models/default]
        [--seed N] [--exclude docs/record_review/*_article_ids.txt]

1. From each news file of NEWS_DIR (``<source>.jsonl``, the six files of the project's
   news data), articles that no file of ``corpus/annotations/`` or ``corpus/eval/`` names
   (``article_id``), that no earlier review drew (``--exclude``: files of article ids)
   and that mention Russia (Russia, Soviet, Moscow, Kremlin, Putin), at
   most the quota of their source, drawn with ``random.Random(seed)``; written to
   ``DIR/articles.jsonl``.
2. ``stance run`` on them (``DIR/out``).
3. ``n`` records drawn with ``DataFrame.sample(random_state=seed_records)``; the judge's
   file ``DIR/items.json`` holds the title, the previous sentence, the sentence and the pair
   only (not the system's stance or direction); ``DIR/key.csv`` holds what the system said.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
QUOTAS = {"allsides_abp_intl_security": 12, "kremlin_en_foreign_policy": 6, "guardian_2022_nato_ukraine": 8,
          "bbc_fulltext_2004_2005": 5, "horne2017_political_news_real": 5, "reuters21578_subset": 4}
RUSSIA = ("Russia", "Soviet", "Moscow", "Kremlin", "Putin")


def annotated_articles() -> set[str]:
    seen: set[str] = set()
    for f in sorted((ROOT / "corpus" / "annotations").glob("*.csv")) + sorted((ROOT / "corpus" / "eval").glob("*.csv")):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        if "article_id" in df:
            seen |= set(df["article_id"])
    return seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("news", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", default=str(ROOT / "models" / "default"))
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--seed-records", type=int, default=7)
    ap.add_argument("-n", type=int, default=80)
    ap.add_argument("--exclude", type=Path, nargs="*", default=[], help="files of article ids drawn before")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    seen, rng, chosen = annotated_articles(), random.Random(a.seed), []
    for f in a.exclude:
        seen |= set(f.read_text(encoding="utf-8").split())
    for src, quota in QUOTAS.items():
        with open(a.news / f"{src}.jsonl", encoding="utf-8") as fh:
            arts = [json.loads(line) for line in fh if line.strip()]
        arts = [x for x in arts if x["id"] not in seen and any(w in x["text"] for w in RUSSIA)]
        chosen += rng.sample(arts, min(quota, len(arts)))
    with open(a.out / "articles.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(x) + "\n" for x in chosen)
    subprocess.run([str(Path(sys.executable).with_name("stance")), "run", str(a.out / "articles.jsonl"),
                    "-o", str(a.out / "out"), "--model", a.model, "-q"], check=True)
    rec = pd.read_csv(a.out / "out" / "records.csv", dtype=str, keep_default_na=False)
    sents = pd.read_csv(a.out / "out" / "sentences.csv", dtype=str, keep_default_na=False)
    text = {(x, int(i)): t for x, i, t in sents[["article_id", "sentence_id", "text"]].values}
    arts = {x["id"]: x for x in chosen}
    items, key = [], []
    for k, row in rec.sample(min(a.n, len(rec)), random_state=a.seed_records).reset_index(drop=True).iterrows():
        i, pair = int(row.sentence_id), f"{row.actor_a}-{row.actor_b}"
        items.append({"item": f"r{k:03d}", "title": arts[row.article_id]["title"],
                      "previous_sentence": text.get((row.article_id, i - 1), ""),
                      "sentence": text[(row.article_id, i)], "pair": pair})
        key.append({"item": f"r{k:03d}", "article_id": row.article_id, "sentence_id": i, "pair": pair,
                    "stance": row.stance, "source_actor": row.source_actor, "target_actor": row.target_actor,
                    "source": arts[row.article_id].get("source", "")})
    (a.out / "items.json").write_text(json.dumps(items, indent=1, ensure_ascii=False), encoding="utf-8")
    pd.DataFrame(key).to_csv(a.out / "key.csv", index=False)
    print(f"{len(chosen)} articles, {len(rec)} records, {len(items)} drawn -> {a.out}")


if __name__ == "__main__":
    main()
