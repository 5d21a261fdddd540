"""Draw sentences for pair-level annotation (CODEBOOK.md, "Pairs") from news JSONL files.

    python corpus/build/sample_pairs.py NEWS.jsonl... --out DIR [--seed 7]

Writes, under DIR,

* ``train_batch_NN.jsonl``: a stratified sample of sentences with their candidate pairs
  (strata: three or more actors; two actors; an implied pair; at most two sentences per
  article and stratum), excluding sentences already in ``corpus/annotations/*.csv``;
* ``eval_articles.jsonl``: every sentence of a few whole articles per source whose main
  pair is RUS-USA (the fixed evaluation set: never trained on).

Each line is one sentence with its article context (title, main pair, most-mentioned
actors, the previous sentence), the actor mentions the pipeline found, those the mention
rules set aside, and the candidate pairs. Annotators label every candidate and add the
pairs it misses. The texts are research data: the batches are not committed; the labelled
sentences are, with their provenance (see ``corpus/annotations/PROVENANCE.md``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from pipeline.config import load_settings  # noqa: E402
from pipeline.ingestion import ingest  # noqa: E402
from pipeline.recognition import build_recogniser  # noqa: E402
from pipeline.relations.candidates import actor_mentions, article_candidates, load_rules  # noqa: E402
from pipeline.relations.stage import main_pair  # noqa: E402
from pipeline.segmentation import iter_chunks, segment  # noqa: E402

QUOTA = {  # sentences per source for the training sample
    "allsides_abp_intl_security": 380, "kremlin_en_foreign_policy": 220, "guardian_2022_nato_ukraine": 190,
    "bbc_fulltext_2004_2005": 170, "reuters21578_subset": 140, "horne2017_political_news_real": 120,
}
EVAL_ARTICLES = {"allsides_abp_intl_security": 8, "kremlin_en_foreign_policy": 4, "guardian_2022_nato_ukraine": 4,
                 "horne2017_political_news_real": 3, "reuters21578_subset": 3, "bbc_fulltext_2004_2005": 2}
STRATA = {"multi": 0.42, "two": 0.36, "implied": 0.22}


def known_texts() -> tuple[set[str], set[str]]:
    """Texts already annotated (any file under corpus/annotations or corpus/eval), and the
    article ids of the evaluation set (never sampled for training)."""
    out, eval_ids = set(), set()
    for folder in ("annotations", "eval"):
        for p in (ROOT / "corpus" / folder).glob("*.csv"):
            df = pd.read_csv(p, dtype=str, keep_default_na=False)
            if "text" in df.columns:
                out.update(" ".join(t.split()) for t in df["text"])
            if folder == "eval" and "article_id" in df.columns:
                eval_ids.update(df["article_id"])
    return out, eval_ids


def sentences_of(path: str, settings, nlp, rules):
    """Yield (source, article, [sentence dicts]) for every article of a JSONL file."""
    for chunk in iter_chunks((a for a in ingest([path], settings) if hasattr(a, "blocks")), 100):
        for seg in segment(chunk, nlp):
            art = seg.article
            kept = [actor_mentions(s, ms, rules) for s, ms in zip(seg.sentences, seg.mentions)]
            mp = main_pair([k for k, _ in kept], 2)
            counts = Counter(m.code for k, _ in kept for m in k)
            per, _ = article_candidates(art, seg.sentences, [k for k, _ in kept], main_pair=mp, rules=rules)
            rows = []
            prev = ""
            for s, (k, dropped), cands in zip(seg.sentences, kept, per):
                if s.block_kind == "table":
                    continue
                rows.append({
                    "source": Path(path).stem, "outlet": art.source or "", "article_id": art.id, "title": art.title or "",
                    "main_pair": "-".join(sorted(mp)) if mp else "",
                    "top_actors": " ".join(f"{c}:{n}" for c, n in counts.most_common(6)),
                    "sentence_index": s.index, "block_kind": s.block_kind, "prev": prev, "text": s.text,
                    "actors": [{"code": m.code, "text": m.text} for m in k],
                    "set_aside": [{"code": m.code, "text": m.text, "reason": why} for m, why in dropped],
                    "candidates": [{"pair": f"{c.actor_a}-{c.actor_b}", "pair_source": c.pair_source,
                                    "trigger": c.trigger.split("|")[0]} for c in cands],
                    "n_actors": len({m.code for m in k}),
                })
                prev = s.text
            yield Path(path).stem, art, mp, rows


def stratum(row: dict) -> str | None:
    n = row["n_actors"]
    if not row["candidates"] or n > 6 or not (40 <= len(row["text"]) <= 400):
        return None
    if n >= 3:
        return "multi"
    if n == 2:
        return "two"
    return "implied"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("news", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--batch", type=int, default=260, help="items (candidate pairs) per training batch")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the per-source quotas")
    ap.add_argument("--eval-articles", type=int, default=1, help="0: draw no evaluation articles")
    ap.add_argument("--train-articles", type=int, default=0, help="whole articles per source for training")
    ap.add_argument("--prefix", default="p", help="first letter of the sentence ids")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    settings = load_settings()
    nlp = build_recogniser(settings)
    rules = load_rules(settings)
    seen, known_eval = known_texts()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pools: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    eval_pool: dict[str, list] = defaultdict(list)
    whole_pool: dict[str, list] = defaultdict(list)
    for path in args.news:
        for src, art, mp, rows in sentences_of(path, settings, nlp, rules):
            if art.id in known_eval:
                continue
            if any(" ".join(r["text"].split()) in seen for r in rows):
                whole_ok = False
            else:
                whole_ok = True
            if whole_ok and mp and 10 <= len(rows) <= 45 and sum(bool(r["candidates"]) for r in rows) >= 4:
                if sorted(mp) == ["RUS", "USA"] and args.eval_articles:
                    eval_pool[src].append(rows)
                elif args.train_articles:
                    whole_pool[src].append(rows)
            per_stratum = defaultdict(list)
            for r in rows:
                st = stratum(r)
                if st and " ".join(r["text"].split()) not in seen:
                    per_stratum[st].append(r)
            for st, rs in per_stratum.items():
                rnd.shuffle(rs)
                pools[src][st].append(rs[:2])
        print(f"read {path}", file=sys.stderr)
    # the evaluation articles first: their articles never reach the training sample
    eval_rows, eval_ids = [], set()
    for src, k in (EVAL_ARTICLES.items() if args.eval_articles else ()):
        arts = eval_pool.get(src, [])
        rnd.shuffle(arts)
        for rows in arts[:k]:
            eval_ids.add(rows[0]["article_id"])
            eval_rows.extend(rows)
    whole_rows = []
    for src in QUOTA:
        arts = whole_pool.get(src, [])
        rnd.shuffle(arts)
        for rows in arts[: args.train_articles]:
            eval_ids.add(rows[0]["article_id"])  # not also in the sentence sample
            whole_rows.extend(rows)
    sample = []
    for src, quota in QUOTA.items():
        quota = round(quota * args.scale)
        for st, share in STRATA.items():
            groups = [g for g in pools[src][st] if g and g[0]["article_id"] not in eval_ids]
            rnd.shuffle(groups)
            want = round(quota * share)
            picked = []
            for g in groups:  # one sentence per article first, a second only if short of the quota
                if len(picked) >= want:
                    break
                picked.append(g[0])
            for g in groups:
                if len(picked) >= want:
                    break
                if len(g) > 1:
                    picked.append(g[1])
            for r in picked:
                r["stratum"] = st
            sample.extend(picked)
    rnd.shuffle(sample)
    for i, r in enumerate(sample):
        r["sid"] = f"{args.prefix}{i:05d}"
    for i, r in enumerate(eval_rows):
        r["sid"] = f"e{i:05d}"
    for i, r in enumerate(whole_rows):
        r["sid"] = f"{args.prefix}w{i:05d}"
    batches, cur, n = [], [], 0
    for r in sample:
        cur.append(r)
        n += len(r["candidates"])
        if n >= args.batch:
            batches.append(cur)
            cur, n = [], 0
    if cur:
        batches.append(cur)
    for k, b in enumerate(batches):
        with open(out / f"train_batch_{k:02d}.jsonl", "w", encoding="utf-8") as fh:
            for r in b:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    if eval_rows:
        with open(out / "eval_articles.jsonl", "w", encoding="utf-8") as fh:
            for r in eval_rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    # whole training articles, split into batches of whole articles
    cur, n, k = [], 0, 0
    for i, r in enumerate(whole_rows):
        cur.append(r)
        n += 1
        last = i + 1 == len(whole_rows) or whole_rows[i + 1]["article_id"] != r["article_id"]
        if last and n >= 180:
            with open(out / f"train_articles_{k:02d}.jsonl", "w", encoding="utf-8") as fh:
                fh.writelines(json.dumps(x, ensure_ascii=False) + "\n" for x in cur)
            cur, n, k = [], 0, k + 1
    if cur:
        with open(out / f"train_articles_{k:02d}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(x, ensure_ascii=False) + "\n" for x in cur)
    items = sum(len(r["candidates"]) for r in sample)
    print(json.dumps({
        "sentences": len(sample), "items": items, "batches": len(batches),
        "by_source": Counter(r["source"] for r in sample), "by_stratum": Counter(r["stratum"] for r in sample),
        "items_multi": sum(len(r["candidates"]) for r in sample if r["stratum"] == "multi"),
        "eval_articles": len(eval_ids), "eval_sentences": len(eval_rows),
        "eval_items": sum(len(r["candidates"]) for r in eval_rows),
        "whole_training_articles": len({r["article_id"] for r in whole_rows}), "whole_sentences": len(whole_rows),
        "whole_items": sum(len(r["candidates"]) for r in whole_rows),
    }, indent=1, default=dict))


if __name__ == "__main__":
    main()
