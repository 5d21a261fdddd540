"""Features of a candidate pair: what the relation classifier sees.

One row per candidate, as a ``pandas.DataFrame`` with

* ``marked``: the sentence with the pair's mentions written ``acta`` / ``actb`` (in text
  order), every other actor ``actx`` and, for a pair the sentence does not name, a leading
  ``implied`` (word n-grams of it let "acta and actb expelled actx" differ from "acta
  expelled actb");
* ``ctx``: space-separated feature tokens about where the two mentions are: the words
  between them, the word before and after each, coordination ("A and B", "A-B"), "between
  A and B", a preposition of place before a mention, the kind of each mention (country,
  capital, leader …), how many actors the sentence names, whether the pair is the
  article's main pair, the sentence classifier's stance and its conjunctions with the
  structural tokens (a linear model needs them to learn "coordinated allies in a
  divergent sentence are not a divergent pair");
* numbers: the sentence classifier's three probabilities and each actor's share of the
  article's actor mentions.

Pure functions of the candidate, its sentence and the article context; no model here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from pipeline.contracts import Candidate, Mention, Prediction, Sentence

TEXT_COLUMNS = ("marked", "ctx")
NUMERIC_COLUMNS = ("p_conv", "p_div", "p_neu", "share_lo", "share_hi")
COLUMNS = TEXT_COLUMNS + NUMERIC_COLUMNS + ("text",)  # "text": the sentence as written (for the encoder)

_TOKEN = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*|[^\sa-z0-9]")
_COORD = {"and", ",", "&", "or", "nor", "as", "well", "the", "-", "–", "—", "/", "both", "with"}
_PLACE_PREP = {"in", "at", "near", "outside", "inside", "into", "across", "throughout", "around", "from", "to", "via", "over"}
_SAY = {"said", "says", "told", "tells", "accused", "accuses", "warned", "urged", "called", "asked", "demanded",
        "criticised", "criticized", "condemned", "praised", "thanked", "welcomed", "rejected", "denied"}


@dataclass(frozen=True)
class ArticleContext:
    """What the features need to know about the article a sentence comes from."""

    main_pair: tuple[str, str] | None
    counts: dict[str, int]  # actor code -> mentions in the article (after the mention rules)

    def rank(self, code: str) -> int:
        if code not in self.counts:
            return 99
        order = self.__dict__.get("_order")
        if order is None:  # computed once per article (frozen dataclass: set through __dict__)
            ranked = sorted(self.counts, key=lambda c: -self.counts[c])
            order = {c: i + 1 for i, c in enumerate(ranked)}
            self.__dict__["_order"] = order
        return order[code]

    def share(self, code: str) -> float:
        total = sum(self.counts.values())
        return self.counts.get(code, 0) / total if total else 0.0


@lru_cache(maxsize=8192)
def _toks(text: str) -> list[str]:
    # memoised: the candidates of one sentence share its prefixes and suffixes (callers
    # only read the list)
    return _TOKEN.findall(text.lower())


def _bucket(n: int, edges=(0, 1, 2, 3, 5, 8, 12, 20)) -> str:
    for e in edges:
        if n <= e:
            return str(e)
    return f">{edges[-1]}"


def marked_text(sentence: Sentence, actors: list[Mention], cand: Candidate) -> str:
    """The sentence with mentions replaced by ``acta`` / ``actb`` / ``actx``."""
    first = cand.first[0] if cand.first else None
    second = cand.second[0] if cand.second else None
    parts, pos = [], 0
    text, base = sentence.text, sentence.start
    for m in actors:
        lo, hi = m.start - base, m.end - base
        if lo < pos:
            continue
        tag = "acta" if m.code == first else "actb" if m.code == second else "actx"
        parts.append(text[pos:lo].lower())
        parts.append(f" {tag} ")
        pos = hi
    parts.append(text[pos:].lower())
    out = "".join(parts)
    return ("implied " + out) if cand.pair_source != "explicit" else out


def _kind(actors: list[Mention], start: int, alias_kinds: dict[str, str]) -> str:
    for m in actors:
        if m.start == start:
            return alias_kinds.get(m.text) or alias_kinds.get(m.text.replace("’", "'")) or "country"
    return "country"


def _cue_tokens(tag: str, text: str, lexicon) -> list[str]:
    """Direction of the cooperation / conflict cues in a stretch of text ("cue_btw=div")."""
    if lexicon is None or not text.strip():
        return []
    return [f"{tag}{suffix}" for suffix in _cues(lexicon, text)]


@lru_cache(maxsize=8192)
def _cues(lexicon, text: str) -> tuple[str, ...]:
    # memoised: the candidates of one sentence share prefixes, suffixes and stretches
    out = []
    for c in lexicon.match(" ".join(text.split()).replace("’", "'").lower()):
        out.append("=conv" if c.effective == "convergence" else "=div")
        if c.negated:
            out.append("_neg")
    return tuple(out)


def context_tokens(sentence: Sentence, actors: list[Mention], cand: Candidate, pred: Prediction | None,
                   art: ArticleContext, alias_kinds: dict[str, str], lexicon=None) -> str:
    """The structural feature tokens of one candidate (see the module docstring)."""
    out = [f"src={cand.pair_source}", f"bk={sentence.block_kind}"]
    n = cand.n_actors
    out.append(f"nact={min(n, 5)}")
    text, base = sentence.text, sentence.start
    a, b = cand.actor_a, cand.actor_b
    main = art.main_pair is not None and {a, b} == set(art.main_pair)
    one_main = art.main_pair is not None and len({a, b} & set(art.main_pair)) == 1
    out.append("main" if main else "main1" if one_main else "nomain")
    ra, rb = sorted((min(art.rank(a), 4), min(art.rank(b), 4)))
    out.append(f"rank={ra}{rb}")
    order = list(dict.fromkeys(m.code for m in actors))  # the sentence's actors by first mention
    oa = sorted(min(order.index(c) + 1, 4) if c in order else 9 for c in (a, b))
    out.append(f"ord={oa[0]}{oa[1]}")  # "ord=12": the first two actors named (often subject and object)
    sent = pred.stance if pred is not None else "neutral"
    out.append(f"sent={sent}")
    struct = []
    if cand.trigger:
        phrase, _, strength = cand.trigger.partition("|")
        out += [f"trig={strength}", "trigw=" + phrase.replace(" ", "_")]
        struct.append(f"trig={strength}")
    if cand.first is not None:
        c1, s1, e1 = cand.first
        lo1, hi1 = s1 - base, e1 - base
        before1, after1 = _toks(text[:lo1]), _toks(text[hi1:])
        out.append(f"k1={_kind(actors, s1, alias_kinds)}")
        out.append("p1=" + (before1[-1] if before1 else "^"))
        out.append("n1=" + (after1[0] if after1 else "$"))
        out.append(f"pos1={_bucket(len(before1), (0, 2, 5, 10))}")
        if before1 and before1[-1] in _PLACE_PREP:
            out.append("p1prep")
            struct.append("p1prep")
        if after1[:2] in (["'", "s"], ["’", "s"]) or (after1 and after1[0] in ("'s", "’s")):
            out.append("poss1")
        if cand.second is not None:
            c2, s2, e2 = cand.second
            lo2, hi2 = s2 - base, e2 - base
            between_text = text[hi1:lo2]
            between = _toks(between_text)
            # other actors between the two are "actx"
            inner = [m for m in actors if m.start >= e1 and m.end <= s2]
            if inner:
                out.append("others_btw")
                rest, pos = [], hi1
                for m in inner:
                    rest.append(text[pos:m.start - base])
                    pos = m.end - base
                rest.append(text[pos:lo2])
                outside = _toks(" ".join(rest))
                if set(outside) <= _COORD:
                    out.append("in_list")  # "A, X, Y and B": listed side by side
                    struct.append("in_list")
            out += _cue_tokens("cue_btw", between_text, lexicon)
            before2, after2 = _toks(text[:lo2]), _toks(text[hi2:])
            out.append(f"k2={_kind(actors, s2, alias_kinds)}")
            out.append("p2=" + (before2[-1] if before2 else "^"))
            out.append("n2=" + (after2[0] if after2 else "$"))
            if before2 and before2[-1] in _PLACE_PREP:
                out.append("p2prep")
                struct.append("p2prep")
            if after2[:2] in (["'", "s"], ["’", "s"]):
                out.append("poss2")
            out.append(f"btwlen={_bucket(len(between))}")
            words = between if len(between) <= 10 else between[:5] + between[-5:]
            out += ["btw=" + w for w in words]
            if between and set(between) <= _COORD and not inner:
                out.append("coord")
                struct.append("coord")
            if between_text.strip() in ("-", "–", "‑", "/"):
                out.append("hyph")
                struct.append("hyph")
            if before1 and before1[-1] == "between" and between[:1] == ["and"]:
                out.append("between_and")
                struct.append("between_and")
            if set(between) & _SAY:
                out.append("say_btw")
                struct.append("say_btw")
            out.append(f"dist={_bucket(len(between))}")
            out += _cue_tokens("cue_pre", text[:lo1], lexicon)
            out += _cue_tokens("cue_post", text[hi2:], lexicon)
        else:
            out.append("one_named")
    else:
        out.append("none_named")
    if n >= 3:
        struct.append("nact3+")
    struct.append("main" if main else "main1" if one_main else "nomain")
    out += [f"{t}&sent={sent}" for t in struct]
    return " ".join(out)


def feature_rows(items: list[tuple[Sentence, list[Mention], Candidate, Prediction | None, ArticleContext]],
                 alias_kinds: dict[str, str] | None = None, lexicon=None) -> pd.DataFrame:
    """The feature frame of a batch of candidates (one row each, columns :data:`COLUMNS`);
    ``alias_kinds`` maps an alias as written to its kind (country, capital, person …);
    ``lexicon`` (the sentence classifier's cue lexicon) marks cues between the mentions."""
    kinds = alias_kinds or {}
    rows = []
    for sentence, actors, cand, pred, art in items:
        shares = sorted((art.share(cand.actor_a), art.share(cand.actor_b)))
        rows.append((
            marked_text(sentence, actors, cand),
            context_tokens(sentence, actors, cand, pred, art, kinds, lexicon),
            pred.p_convergence if pred else 0.0, pred.p_divergence if pred else 0.0, pred.p_neutral if pred else 1.0,
            shares[0], shares[1], sentence.text,
        ))
    return pd.DataFrame(rows, columns=list(COLUMNS))
