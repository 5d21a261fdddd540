"""Candidate pairs: which actor pairs a sentence may be about (CODEBOOK.md, "Pairs").

A sentence's candidates are

* every pair of the actors it names (``explicit``), after the mention rules of
  ``corpus/vocab/mention_context.csv`` have set aside mentions that are only a place, an
  attribute or part of a name ("the Sea of Japan", "a pub in London", "Russian-born",
  "the Paris Agreement", "the first Russian woman to win");
* the article's main pair when the sentence refers to the relation itself ("the two
  sides", "bilateral", "the summit": ``corpus/vocab/relation_references.csv``) and names
  at most one of the two (``implied``);
* for a bullet under an intro line ("moves that align with Russia's agenda:"), the
  intro's pairs (``intro``).

Nothing is capped silently: ``[relations] max_actors_per_sentence`` bounds the actors of
one sentence (pairs grow with its square), and what it drops is returned so that the
caller can report it. Whether a candidate is a relation at all is for the relation
classifier to decide, not for this module.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from pipeline.config import Settings, load_settings
from pipeline.contracts import Article, Candidate, Mention, Sentence


@dataclass(frozen=True)
class MentionRule:
    side: str  # "before" | "after"
    pattern: re.Pattern
    kinds: frozenset[str] | None  # alias kinds it applies to; None: every kind
    reason: str


@dataclass(frozen=True)
class CandidateRules:
    """The lexical data the candidate generator reads (loaded once per process)."""

    mention_rules: tuple[MentionRule, ...]
    references: re.Pattern | None  # relation references, one alternation
    strength: dict[str, str]  # reference phrase -> strong | weak
    alias_kinds: dict[str, str]  # alias as written -> kind (country, capital, demonym, person, metonym, igo)
    max_actors: int = 12
    context_chars: int = 40  # how far the mention rules look on each side

    def prefilter(self, side: str, kind: str) -> re.Pattern | None:
        """One alternation of every rule of a side that applies to a kind: a context that
        it does not match needs no rule-by-rule search (most mentions). Built on first use."""
        cache = self.__dict__.setdefault("_prefilter", {})
        key = (side, kind)
        if key not in cache:
            pats = [r.pattern.pattern for r in self.mention_rules
                    if r.side == side and (r.kinds is None or kind in r.kinds)]
            cache[key] = re.compile("|".join(f"(?:{p})" for p in pats), re.I) if pats else None
        return cache[key]


def _rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def _trie_pattern(phrases: list[str]) -> str:
    """One regular expression for a set of phrases, as a character trie: the regex engine
    then tries one branch per letter instead of every phrase at every position (five to
    ten times faster on news sentences than a flat alternation). Longer phrases win, as
    in a longest-first alternation, because every branch is tried before its shorter end."""
    trie: dict = {}
    for p in phrases:
        node = trie
        for ch in p:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends = "" in node
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch != ""]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if ends else body

    return "(?:" + build(trie) + ")"


def read_alias_kinds(settings: Settings) -> dict[str, str]:
    """Alias -> kind, with the same case variants the matcher adds (``actor_patterns``)."""
    out: dict[str, str] = {}
    for row in _rows(settings.path("vocab", "actors")):
        alias, kind = (row.get("alias") or "").strip(), (row.get("kind") or "").strip()
        if not alias or not kind:
            continue
        for variant in (alias, alias.replace("'", "’"), alias.upper(), alias.title(),
                        "The " + alias[4:] if alias.startswith("the ") else None):
            if variant:
                out.setdefault(variant, kind)
    return out


def load_rules(settings: Settings | None = None) -> CandidateRules:
    settings = settings or load_settings()
    rules = []
    for row in _rows(settings.path("relations", "mention_context")):
        kinds = (row.get("kinds") or "*").strip()
        rules.append(MentionRule(
            side=row["side"].strip(),
            pattern=re.compile(row["pattern"], re.I),
            kinds=None if kinds in ("", "*") else frozenset(k.strip() for k in kinds.split(";") if k.strip()),
            reason=(row.get("reason") or "").strip(),
        ))
    strength = {}
    for row in _rows(settings.path("relations", "relation_references")):
        phrase = (row.get("phrase") or "").strip().lower()
        if phrase:
            strength[phrase] = (row.get("strength") or "weak").strip()
    refs = None
    if strength:
        refs = re.compile(r"(?<![\w-])" + _trie_pattern(list(strength)) + r"(?![\w-])", re.I)
    return CandidateRules(tuple(rules), refs, strength, read_alias_kinds(settings),
                          int(settings.get("relations", "max_actors_per_sentence", 12)))


def mention_kind(m: Mention, rules: CandidateRules) -> str:
    return rules.alias_kinds.get(m.text) or rules.alias_kinds.get(m.text.replace("’", "'")) or "country"


def not_actor_reason(m: Mention, sentence: Sentence, rules: CandidateRules) -> str:
    """Why a mention is not an actor in a relation ("" when it is one)."""
    kind = mention_kind(m, rules)
    lo, hi = m.start - sentence.start, m.end - sentence.start
    before = sentence.text[max(0, lo - rules.context_chars):lo]
    after = sentence.text[hi:hi + rules.context_chars]
    pre_b, pre_a = rules.prefilter("before", kind), rules.prefilter("after", kind)
    if not (pre_b is not None and pre_b.search(before)) and not (pre_a is not None and pre_a.search(after)):
        return ""
    for r in rules.mention_rules:
        if r.kinds is not None and kind not in r.kinds:
            continue
        if r.pattern.search(before if r.side == "before" else after):
            return r.reason or "not an actor"
    return ""


def actor_mentions(sentence: Sentence, mentions: list[Mention], rules: CandidateRules) -> tuple[list[Mention], list[tuple[Mention, str]]]:
    """The sentence's actor mentions that can stand in a relation, and those set aside
    (with the reason)."""
    kept, dropped = [], []
    for m in mentions:
        if m.kind != "actor":
            continue
        why = not_actor_reason(m, sentence, rules)
        if why:
            dropped.append((m, why))
        else:
            kept.append(m)
    return kept, dropped


def relation_reference(text: str, rules: CandidateRules) -> str:
    """The first relation reference in ``text`` as ``phrase|strength`` ("" if none);
    strong references win over weak ones."""
    if rules.references is None:
        return ""
    found = [m.group(0).lower() for m in rules.references.finditer(text)]
    if not found:
        return ""
    strong = [f for f in found if rules.strength.get(f) == "strong"]
    phrase = (strong or found)[0]
    return f"{phrase}|{rules.strength.get(phrase, 'weak')}"


def _closest(ms_a: list[Mention], ms_b: list[Mention]) -> tuple[Mention, Mention]:
    best = None
    for x in ms_a:
        for y in ms_b:
            d = abs(x.start - y.start)
            if best is None or d < best[0]:
                best = (d, x, y)
    return best[1], best[2]


def _span(m: Mention | None) -> tuple[str, int, int] | None:
    return None if m is None else (m.code, m.start, m.end)


def sentence_candidates(
    sentence: Sentence,
    actors: list[Mention],
    *,
    main_pair: tuple[str, str] | None,
    rules: CandidateRules,
) -> tuple[list[Candidate], list[str]]:
    """Candidate pairs of one sentence from its actor mentions (already filtered by
    :func:`actor_mentions`). Returns the candidates and the actor codes dropped by the
    ``max_actors`` bound (first-mentioned actors are kept)."""
    by_code: dict[str, list[Mention]] = {}
    for m in actors:
        by_code.setdefault(m.code, []).append(m)
    codes = list(by_code)
    dropped: list[str] = []
    if len(codes) > rules.max_actors:
        codes, dropped = codes[: rules.max_actors], codes[rules.max_actors :]
    n = len(codes)
    out: list[Candidate] = []
    # the relation reference, if any, is a feature of every candidate of the sentence
    trigger = relation_reference(sentence.text, rules) if (n >= 2 or main_pair is not None) else ""
    for x, y in combinations(codes, 2):
        mx, my = _closest(by_code[x], by_code[y])
        first, second = (mx, my) if mx.start <= my.start else (my, mx)
        a, b = sorted((x, y))
        out.append(Candidate(sentence.index, a, b, "explicit", _span(first), _span(second), trigger, n))
    if main_pair is not None and sentence.block_kind != "table":
        a, b = sorted(main_pair)
        named = [c for c in codes if c in (a, b)]
        if len(named) < 2:
            if trigger:
                m = by_code[named[0]][0] if named else None
                out.append(Candidate(sentence.index, a, b, "implied", _span(m), None, trigger, n))
    return out, dropped


def intro_lines(article: Article) -> dict[int, int]:
    """Block index of each bullet -> block index of its intro line (a paragraph ending in
    ":" right above the list)."""
    out: dict[int, int] = {}
    for bi, block in enumerate(article.blocks):
        if block.kind == "bullet":
            j = bi - 1
            while j >= 0 and article.blocks[j].kind == "bullet":
                j -= 1
            if j >= 0 and article.blocks[j].kind == "paragraph" and article.blocks[j].text.rstrip().endswith(":"):
                out[bi] = j
    return out


def article_candidates(
    article: Article,
    sentences: list[Sentence],
    mentions: list[list[Mention]],
    *,
    main_pair: tuple[str, str] | None,
    rules: CandidateRules,
    filtered: bool = False,
) -> tuple[list[list[Candidate]], list[str]]:
    """Candidates of every sentence of an article (one list per sentence, table rows get
    none: they are read by the table stage), and remarks on what was dropped.
    ``filtered``: the mentions have already been through :func:`actor_mentions`."""
    per: list[list[Candidate]] = []
    remarks: list[str] = []
    for s, ms in zip(sentences, mentions):
        if s.block_kind == "table":
            per.append([])
            continue
        actors = [m for m in ms if m.kind == "actor"] if filtered else actor_mentions(s, ms, rules)[0]
        cands, dropped = sentence_candidates(s, actors, main_pair=main_pair, rules=rules)
        if dropped:
            remarks.append(f"sentence {s.index}: {len(dropped) + rules.max_actors} actors; pairs of the first "
                           f"{rules.max_actors} kept, dropped {', '.join(dropped)} ([relations] max_actors_per_sentence)")
        per.append(cands)
    # a bullet under an intro line takes the intro's pairs when it has none of its own
    intro_of = intro_lines(article)
    if intro_of:
        last_of_block = {s.block_index: i for i, s in enumerate(sentences)}
        for i, s in enumerate(sentences):
            j = intro_of.get(s.block_index)
            if j is None or j not in last_of_block:
                continue
            own = {(c.actor_a, c.actor_b) for c in per[i]}
            for c in per[last_of_block[j]]:
                if (c.actor_a, c.actor_b) not in own:
                    per[i].append(Candidate(s.index, c.actor_a, c.actor_b, "intro", None, None, c.trigger, c.n_actors))
    return per, remarks
