"""Draw passages for the sentence-boundary test set from news JSONL files.

    python corpus/build/sample_sbd_passages.py NEWS_DIR --out FILE [--seed 11]
        [--min-final 2] [--scale 1.0] [--exclude DRAFT.jsonl ...]

A passage is one paragraph of an article (Reuters wire paragraphs: the hard-wrapped lines
joined by single spaces), 150-1,000 characters, with no line break inside, and at least two
sentence-final characters (``--min-final``). Per source file, some passages are drawn among those that
contain a hard case (an abbreviation, initials, an ellipsis, a quotation ending a sentence,
a number with a period, "U.S." before a capital ...) and some among those that contain none;
at most one passage per article. The output is a draft: one JSON line per passage with
``id, source, article_id, paragraph, text, hard`` (the hard-case patterns it matched). The
gold sentences are added by reading every passage (see
``corpus/eval/sentence_boundaries/PROVENANCE.md``); nothing here decides a boundary.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

HARD = {
    "initialism": r"\b(?:[A-Z]\.){2,}(?=\s+[A-Z\"“])",
    "corp_abbrev": r"\b(?:Co|Inc|Corp|Ltd|Jr|Sr|Bros|Cos)\.(?=\s)",
    "time": r"\b[aApP]\.[mM]\.",
    "initials": r"\b[A-Z]\.\s?(?:[A-Z]\.\s?)?[A-Z][a-z]",
    "ellipsis": r"\.\.\.|…",
    "quote_end": r"[.?!][\"”’']\s+[A-Z]",
    "title_abbrev": r"\b(?:Mr|Mrs|Ms|Dr|Gen|Sen|Rep|Gov|St|Lt|Col|Prof|Rev|Adm|Sgt|Capt)\.\s",
    "month": r"\b(?:Jan|Feb|Aug|Sept?|Oct|Nov|Dec)\.\s",
    "number": r"\d\.\d|\bNo\.\s?\d",
    "latin": r"\b(?:etc|vs|e\.g|i\.e|al|approx)\.",
    "q_excl": r"[?!]\s+\S",
    "other_abbrev": r"\b[A-Z][a-z]{0,3}\.(?=\s+[a-z])",
}
HARD_RE = {k: re.compile(v) for k, v in HARD.items()}
FINAL = re.compile(r"[.?!…]")
PER_SOURCE = {  # (hard, ordinary)
    "allsides_abp_intl_security": (18, 4),
    "kremlin_en_foreign_policy": (8, 3),
    "bbc_fulltext_2004_2005": (9, 3),
    "reuters21578_subset": (12, 2),
    "guardian_2022_nato_ukraine": (9, 3),
    "horne2017_political_news_real": (9, 3),
}


def paragraphs(source: str, text: str) -> list[str]:
    if source.startswith("reuters"):
        paras = re.split(r"\n\s{2,}|\n\n", text)
        return [" ".join(line.strip() for line in p.split("\n")).strip() for p in paras]
    return [p.strip() for p in text.split("\n\n")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("news_dir", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--min-final", type=int, default=2, help="sentence-final characters a passage needs")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the per-source counts")
    ap.add_argument("--exclude", type=Path, nargs="*", default=[], help="earlier drafts: skip their articles")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    skip = {json.loads(line)["article_id"] for f in args.exclude for line in f.open(encoding="utf-8")}
    out = []
    for source, (n_hard, n_plain) in PER_SOURCE.items():
        n_hard, n_plain = round(n_hard * args.scale), round(n_plain * args.scale)
        hard, plain = [], []
        for line in (args.news_dir / f"{source}.jsonl").open(encoding="utf-8"):
            art = json.loads(line)
            if art.get("meta", {}).get("duplicate_text_of") or art["id"] in skip:
                continue
            for pi, p in enumerate(paragraphs(source, art["text"] or "")):
                if not (150 <= len(p) <= 1000) or "\n" in p or len(FINAL.findall(p)) < args.min_final:
                    continue
                tags = [k for k, r in HARD_RE.items() if r.search(p)]
                (hard if tags else plain).append((art["id"], pi, p, tags))
        rng.shuffle(hard)
        rng.shuffle(plain)
        seen: set[str] = set()
        picked = []
        # hard passages: the patterns in turn (in a random order per source), so that rare
        # ones (an ellipsis, "Co.", "p.m.") are represented, then the ordinary ones
        order = list(HARD)
        rng.shuffle(order)
        k = 0
        while len(picked) < n_hard and k < 20 * len(order):
            tag = order[k % len(order)]
            k += 1
            for item in hard:
                if tag in item[3] and item[0] not in seen:
                    seen.add(item[0])
                    picked.append(item)
                    break
        for item in plain:
            if len(picked) == n_hard + n_plain:
                break
            if item[0] not in seen:
                seen.add(item[0])
                picked.append(item)
        for aid, pi, p, tags in picked:
            out.append({"id": f"{aid}#p{pi}", "source": source, "article_id": aid, "paragraph": pi,
                        "text": p, "hard": tags})
    with args.out.open("w", encoding="utf-8") as fh:
        for r in out:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(out)} passages -> {args.out}")


if __name__ == "__main__":
    main()
