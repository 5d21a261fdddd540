"""The compiled TF-IDF transform and the faster text helpers give exactly what
scikit-learn and the plain definitions give."""

from __future__ import annotations

import re
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings as hsettings, strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.stance.features import CueAbstraction, clean_text, stem_text
from pipeline.stance.lexicon import Lexicon
from pipeline.stance.vectorize import CompiledPipeline, CompiledTfidf, supported
from pipeline.labels import CONVERGENCE, DIVERGENCE

TEXTS = pd.read_csv("corpus/annotations/news_sentences.csv", dtype=str, keep_default_na=False)["text"].tolist()
HOSTILE = ["", "   ", "a", "=HYPERLINK(\"x\")", "don't won't can't", "Ünïcödé — “quotes” ‘single’", "x " * 500,
           "the the the the", "U.S.-Russia talks; NATO's role", "\t\n\r\x0b\x0c\u2028\u3000"]

CONFIGS = [
    dict(preprocessor=clean_text, lowercase=True, ngram_range=(1, 2), min_df=2, sublinear_tf=True,
         max_features=40000, token_pattern=r"(?u)\b\w[\w'-]*\b"),
    dict(preprocessor=stem_text, lowercase=False, ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"\S+"),
    dict(lowercase=False, ngram_range=(1, 3), min_df=2, sublinear_tf=True, token_pattern=r"\S+", max_features=5000),
    dict(ngram_range=(2, 3), norm="l1", use_idf=False),
    dict(ngram_range=(1, 1), norm=None, smooth_idf=False),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_compiled_tfidf_equals_sklearn(config):
    vec = TfidfVectorizer(**config).fit(TEXTS[:2500])
    assert supported(vec)
    docs = TEXTS[2500:] + HOSTILE
    want = vec.transform(docs)
    got = CompiledTfidf(vec).transform(docs)
    assert got.shape == want.shape
    assert abs(got - want).max() < 1e-12
    assert got.nnz == (want != 0).sum()  # every nonzero in the same place, none extra


_FITTED = TfidfVectorizer(ngram_range=(1, 3), min_df=1).fit(TEXTS[:500])
_COMPILED = CompiledTfidf(_FITTED)


@hsettings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(list("abc de-'.\n") + ["the ", "russia ", "talks "]), max_size=30).map("".join), min_size=1, max_size=8))
def test_compiled_tfidf_property(docs):
    got, want = _COMPILED.transform(docs), _FITTED.transform(docs)
    assert got.shape == want.shape
    assert np.abs((got - want).toarray()).max() < 1e-12


def test_compiled_tfidf_no_documents():
    assert _COMPILED.transform([]).shape == (0, len(_FITTED.vocabulary_))


def test_unsupported_vectorizers_are_refused():
    assert not supported(TfidfVectorizer(analyzer="char").fit(TEXTS[:50]))
    assert not supported(TfidfVectorizer(stop_words="english").fit(TEXTS[:50]))
    assert not supported(TfidfVectorizer())  # not fitted
    with pytest.raises(ValueError):
        CompiledTfidf(TfidfVectorizer(binary=True).fit(TEXTS[:50]))


def test_compiled_model_predicts_like_sklearn(model):
    compiled = CompiledPipeline.build(model.pipeline)
    assert compiled is not None and model.sentence.compiled is not None
    docs = TEXTS[:1500] + HOSTILE
    want = model.pipeline.predict_proba(docs)
    got = compiled.predict_proba(docs)
    assert np.abs(got - want).max() < 1e-12


def test_clean_text_equals_the_regex_definition():
    ws = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if re.match(r"\s", c))
    text = f"{ws}a{ws}’b‘ c {ws}"
    assert clean_text(text) == re.sub(r"\s+", " ", text).replace("’", "'").replace("‘", "'").strip() == "a 'b' c"


@hsettings(max_examples=300, deadline=None)
@given(st.text())
def test_clean_and_stem_text_property(text):
    assert clean_text(text) == re.sub(r"\s+", " ", text).replace("’", "'").replace("‘", "'").strip()
    old = " ".join(w[:5] for w in re.findall(r"[a-z0-9]+", clean_text(text).lower()))
    assert stem_text(text) == old


def test_cue_abstraction_replaces_multi_word_cues():
    cues = {"agreed": (CONVERGENCE, 0.5), "cold war": (DIVERGENCE, 0.5), "reject": (DIVERGENCE, 0.4)}
    abst = CueAbstraction(cues=cues, negators=["not"]).fit([])
    got = abst.transform(["They agreed to end the cold war, and did not reject talks."])
    assert got == ["they CONV to end the DIV , and did not NEG_DIV talks ."]
    assert Lexicon(cues, ["not"]).match("end the cold war")[0].length == 2


@hsettings(max_examples=300, deadline=None)
@given(st.text())
def test_split_finds_what_the_whitespace_token_pattern_finds(text):
    # CompiledTfidf uses str.split for token_pattern r"\S+"
    assert re.findall(r"\S+", text) == text.split()


def test_compiled_relation_model_predicts_like_sklearn(model, nlp, settings):
    """The relation and direction pipelines' compiled predict_proba equals scikit-learn's."""
    import pandas as pd

    from conftest import ROOT
    from pipeline.relations.candidates import load_rules
    from pipeline.relations.training import featurize, read_pairs

    rel = model.relation
    assert set(rel.compiled) == {"relation", "direction"}
    pairs = read_pairs([ROOT / "corpus/annotations/pairs.csv"])[:400]
    F = featurize(pairs, nlp, load_rules(settings), model.sentence.predict, model.lexicon)
    hostile = F.frame.head(3).copy()
    hostile["marked"] = ["", "\u200b actx " * 50, "acta ’s actb"]
    hostile["ctx"] = ["", "unknown_token " * 10, "src=explicit src=explicit"]
    frame = pd.concat([F.frame, hostile], ignore_index=True)
    for name in ("relation", "direction"):
        want = getattr(rel, name).predict_proba(frame)
        got = rel.compiled[name].predict_proba(frame)
        assert np.abs(got - want).max() < 1e-12
