"""Draw random news sentences for measuring actor recall (``corpus/eval/actor_recall*.csv``).

    python corpus/build/sample_actor_recall.py NEWS.jsonl... --out FILE.jsonl [--seed 3] [--prefix c]

One sentence per article at most, per-source quotas (those of ``actor_recall_2.csv``),
20 to 400 characters, none whose text is already in ``corpus/annotations`` or
``corpus/eval``. Only the segmenter runs: the sample is drawn blind to what the recogniser
finds. Each line has the sentence, the one before it and the article's title (an annotator
needs them for "he", "the ministry"), for an annotator to list every reference to a state,
bloc or intergovernmental organisation as ``[{"text": …, "code": …}]``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipeline.config import load_settings  # noqa: E402
from pipeline.ingestion import ingest  # noqa: E402
from pipeline.segmentation import build_segmenter, iter_chunks, segment  # noqa: E402

sys.path.insert(0, str(ROOT / "corpus" / "build"))
from sample_pairs import known_texts  # noqa: E402

QUOTA = {"allsides_abp_intl_security": 100, "kremlin_en_foreign_policy": 60, "guardian_2022_nato_ukraine": 50,
         "bbc_fulltext_2004_2005": 40, "horne2017_political_news_real": 35, "reuters21578_subset": 35}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("news", nargs="+")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--prefix", default="c")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    settings = load_settings()
    nlp = build_segmenter(settings)
    seen, eval_ids = known_texts()
    pools: dict[str, list] = defaultdict(list)
    for path in args.news:
        src = Path(path).stem
        for chunk in iter_chunks((a for a in ingest([path], settings) if hasattr(a, "blocks")), 100):
            for seg in segment(chunk, nlp):
                art = seg.article
                if art.id in eval_ids:
                    continue
                prev, rows = "", []
                for s in seg.sentences:
                    if s.block_kind != "table" and 20 <= len(s.text) <= 400 and " ".join(s.text.split()) not in seen:
                        rows.append({"source": src, "article_id": art.id, "title": art.title or "", "prev": prev,
                                     "text": s.text})
                    prev = s.text
                if rows:
                    pools[src].append(rows)
        print(f"read {path}", file=sys.stderr)
    sample = []
    for src, quota in QUOTA.items():
        arts = pools.get(src, [])
        rnd.shuffle(arts)
        sample.extend(rnd.choice(rows) for rows in arts[:quota])
    rnd.shuffle(sample)
    with open(args.out, "w", encoding="utf-8") as fh:
        for i, r in enumerate(sample):
            fh.write(json.dumps({"uid": f"{args.prefix}{i:04d}", **r}, ensure_ascii=False) + "\n")
    print(f"{len(sample)} sentences -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
