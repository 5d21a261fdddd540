"""An article page's content: its text rebuilt from the sentence table, each sentence
coloured by its relation records, actor and topic mentions marked (in the spirit of
displaCy's entity view), and its hand-made tables next to the prose check.

The output tables hold every segment with its offsets but not the article's raw text,
so blocks are rebuilt from the segments: a new block where the block kind or section
changes or where the gap between two segments is more than one character (a paragraph
break). Mentions are found again with the run's own recogniser
(:func:`pipeline.recognition.build_recogniser`) on each sentence's text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from html import escape

import pandas as pd

from pipeline.records import net_stance


@dataclass
class Block:
    kind: str  # title | heading | paragraph | bullet | table
    section: str
    sentences: list[dict] = field(default_factory=list)
    table_index: int | None = None


def sentence_stance(records: pd.DataFrame, band: float) -> dict[int, dict]:
    """Per sentence id: its records' net stance, mean score and pairs (one claim per pair)."""
    out: dict[int, dict] = {}
    if records.empty:
        return out
    claims = records.drop_duplicates(["sentence_id", "pair"])
    for sid, g in claims.groupby("sentence_id"):
        counts = g["stance"].value_counts()
        mean = float(g["score"].mean())
        out[int(sid)] = {
            "stance": net_stance(int(counts.get("convergence", 0)), int(counts.get("divergence", 0)), mean, band),
            "score": mean,
            "pairs": "; ".join(f"{p} {s} {sc:+.2f}" for p, s, sc in zip(g["pair"], g["stance"], g["score"])),
        }
    return out


def blocks(sentences: pd.DataFrame) -> list[Block]:
    """Group an article's segments into the blocks they came from."""
    out: list[Block] = []
    prev_end, n_tables = None, 0
    for s in sentences.to_dict(orient="records"):
        kind, section = s["block_kind"], s["section"]
        gap = None if prev_end is None else int(s["start"]) - prev_end
        new = (not out or out[-1].kind != kind or out[-1].section != section
               or kind in ("title", "heading", "bullet") or (kind == "paragraph" and gap is not None and gap > 1))
        if kind == "table" and out and out[-1].kind == "table":
            new = False
        if new:
            out.append(Block(kind, section, table_index=n_tables if kind == "table" else None))
            if kind == "table":
                n_tables += 1
        out[-1].sentences.append(s)
        prev_end = int(s["end"])
    return out


def marked(text: str, mentions: list[tuple[int, int, str, str]]) -> str:
    """The sentence as HTML with its mentions wrapped in ``<mark>`` (kind and code shown
    as a label, as displaCy does); overlapping mentions: the first wins."""
    out, pos = [], 0
    for start, end, kind, code in sorted(mentions, key=lambda m: (m[0], -m[1])):
        if start < pos:
            continue
        out.append(escape(text[pos:start]))
        out.append(f'<mark class="ent ent-{kind}" title="{escape(kind)} {escape(code)}">{escape(text[start:end])}'
                   f'<span class="ent-label">{escape(code)}</span></mark>')
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


def find_mentions(texts: list[str], nlp) -> list[list[tuple[int, int, str, str]]]:
    """Actor and topic mentions of each text, with the run's recogniser."""
    from pipeline.recognition import raw_mentions

    matcher = nlp.get_pipe("vocab_matcher")
    return [raw_mentions(matcher(nlp.make_doc(t))) for t in texts]


@lru_cache(maxsize=1)
def recogniser():
    """The run's tokenizer and vocabulary matcher (built once per process: ~40k patterns)."""
    from pipeline.recognition import build_recogniser

    return build_recogniser()
