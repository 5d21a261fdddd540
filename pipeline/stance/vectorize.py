"""A fast ``transform`` for fitted ``TfidfVectorizer`` objects, with identical output.

scikit-learn's ``TfidfVectorizer.transform`` builds every word n-gram of every sentence as
a Python string and looks each one up in the vocabulary, one at a time. On a batch run
that loop was the largest single cost of the classifier. :class:`CompiledTfidf` keeps
scikit-learn's own preprocessor and tokenizer (``build_preprocessor`` / ``build_tokenizer``)
and its fitted ``vocabulary_`` and ``idf_``, but forms the n-grams as integer keys with
numpy and finds their columns with one hash lookup per n-gram length. Counting,
``sublinear_tf``, idf weighting and L2 normalisation follow ``TfidfTransformer``.

Training never uses this module: models are fitted by scikit-learn and saved as usual.
``tests/test_stance.py`` checks that the compiled and the scikit-learn outputs are equal.
"""

from __future__ import annotations

from itertools import chain, repeat

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize


class CompiledTfidf:
    """The ``transform`` of one fitted word-analyzer ``TfidfVectorizer``."""

    def __init__(self, vec: TfidfVectorizer):
        if not supported(vec):
            raise ValueError("only fitted word-analyzer TfidfVectorizers without stop words are supported")
        self.vec = vec
        self.preprocess = vec.build_preprocessor()
        # r"\S+" finds exactly what str.split() returns (the same Unicode whitespace)
        self.tokenize = str.split if vec.token_pattern == r"\S+" and vec.tokenizer is None else vec.build_tokenizer()
        self.lo, self.hi = vec.ngram_range
        self.n_features = len(vec.vocabulary_)
        tokens: dict[str, int] = {}
        grams = []
        for term, col in vec.vocabulary_.items():
            parts = term.split(" ")
            grams.append(([tokens.setdefault(p, len(tokens)) for p in parts], col))
        self.tokens = tokens
        self.unknown = len(tokens)
        self.base = len(tokens) + 1
        if self.base ** self.hi >= 2**62:
            raise ValueError("vocabulary too large for integer n-gram keys")
        by_n: dict[int, tuple[list[int], list[int]]] = {}
        for ids, col in grams:
            key = 0
            for t in ids:
                key = key * self.base + t
            keys, cols = by_n.setdefault(len(ids), ([], []))
            keys.append(key)
            cols.append(col)
        # one hash index per n-gram length (pandas' C hash table: several times faster
        # than a binary search over sorted keys)
        self.tables = {n: (pd.Index(np.asarray(keys, dtype=np.int64)), np.asarray(cols, dtype=np.int64))
                       for n, (keys, cols) in by_n.items()}
        self.idf = np.asarray(vec.idf_, dtype=np.float64) if getattr(vec, "use_idf", True) else None

    def transform(self, docs) -> sparse.csr_matrix:
        docs = list(docs)
        if not docs:
            return sparse.csr_matrix((0, self.n_features), dtype=np.float64)
        pre, tok = self.preprocess, self.tokenize
        toks = [tok(pre(d)) for d in docs]
        lens = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
        flat = list(chain.from_iterable(toks))
        ids = np.fromiter(map(self.tokens.get, flat, repeat(self.unknown)), dtype=np.int64, count=len(flat))
        doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), lens)
        rows, cols = [], []
        for n in range(self.lo, self.hi + 1):
            table = self.tables.get(n)
            if table is None or len(ids) < n:
                continue
            m = len(ids) - n + 1
            key = ids[:m].copy()
            ok = (ids[:m] != self.unknown) & (doc_of[:m] == doc_of[n - 1 :])
            for j in range(1, n):
                key = key * self.base + ids[j : j + m]
                ok &= ids[j : j + m] != self.unknown
            key, where = key[ok], doc_of[:m][ok]
            index, cs = table
            pos = index.get_indexer(key)
            hit = pos >= 0
            rows.append(where[hit])
            cols.append(cs[pos[hit]])
        r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
        X = sparse.csr_matrix((np.ones(len(r), dtype=np.float64), (r, c)), shape=(len(docs), self.n_features))
        X.sum_duplicates()
        X.sort_indices()
        if self.vec.sublinear_tf:
            np.log(X.data, X.data)
            X.data += 1.0
        if self.idf is not None:
            X.data *= self.idf[X.indices]
        if self.vec.norm is not None:
            X = normalize(X, norm=self.vec.norm, copy=False)
        return X


def supported(vec) -> bool:
    """Can :class:`CompiledTfidf` reproduce this vectorizer's ``transform`` exactly?"""
    return (
        isinstance(vec, TfidfVectorizer)
        and hasattr(vec, "vocabulary_")
        and vec.analyzer == "word"
        and vec.stop_words is None
        and not getattr(vec, "binary", False)
        and vec.tokenizer is None
        and np.dtype(vec.dtype) == np.float64
        and vec.ngram_range[0] >= 1
    )


class CompiledPipeline:
    """``predict_proba`` of a fitted ``Pipeline([("features", FeatureUnion), ("clf", …)])``
    with every TF-IDF step (also as the last step of a sub-pipeline) compiled; other
    transformers run as they are. Returns ``None`` from :meth:`build` for any other shape,
    and the caller then uses scikit-learn directly."""

    def __init__(self, parts: list, clf):
        self.parts, self.clf = parts, clf
        self.classes_ = clf.classes_

    @classmethod
    def build(cls, pipe) -> "CompiledPipeline | None":
        from sklearn.pipeline import FeatureUnion, Pipeline

        if not isinstance(pipe, Pipeline) or len(pipe.steps) != 2:
            return None
        union, clf = pipe.steps[0][1], pipe.steps[1][1]
        if not isinstance(union, FeatureUnion) or union.transformer_weights or not hasattr(clf, "predict_proba"):
            return None
        parts = []
        for _, est in union.transformer_list:
            if isinstance(est, str):
                return None
            if supported(est):
                parts.append(([], CompiledTfidf(est)))
            elif isinstance(est, Pipeline) and supported(est.steps[-1][1]) and not any(isinstance(s, str) for _, s in est.steps):
                parts.append(([s for _, s in est.steps[:-1]], CompiledTfidf(est.steps[-1][1])))
            else:
                parts.append(([est], None))
        return cls(parts, clf)

    def transform(self, texts: list[str]):
        blocks = []
        for pre, last in self.parts:
            X = texts
            for step in pre:
                X = step.transform(X)
            blocks.append(last.transform(X) if last is not None else (X if sparse.issparse(X) else sparse.csr_matrix(X)))
        return sparse.hstack(blocks, format="csr")

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.clf.predict_proba(self.transform(texts))


class CompiledCounts:
    """The ``transform`` of a fitted binary unigram ``CountVectorizer`` over whitespace
    tokens (``token_pattern=r"\\S+"``, no lower-casing): one dictionary lookup per token."""

    def __init__(self, vec):
        if not counts_supported(vec):
            raise ValueError("only fitted binary unigram CountVectorizers over \\S+ tokens are supported")
        self.vocab = vec.vocabulary_
        self.n_features = len(vec.vocabulary_)

    def transform(self, docs) -> sparse.csr_matrix:
        get = self.vocab.get
        indptr, indices = [0], []
        for d in docs:
            cols = sorted({c for c in map(get, d.split()) if c is not None})
            indices.extend(cols)
            indptr.append(len(indices))
        data = np.ones(len(indices), dtype=np.int64)
        return sparse.csr_matrix((data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
                                 shape=(len(indptr) - 1, self.n_features))


def counts_supported(vec) -> bool:
    from sklearn.feature_extraction.text import CountVectorizer

    return (type(vec) is CountVectorizer and hasattr(vec, "vocabulary_") and vec.binary and vec.analyzer == "word"
            and vec.token_pattern == r"\S+" and not vec.lowercase and vec.tokenizer is None and vec.preprocessor is None
            and vec.stop_words is None and tuple(vec.ngram_range) == (1, 1) and vec.strip_accents is None)


class CompiledColumnPipeline:
    """``predict_proba`` of a fitted ``Pipeline([("features", ColumnTransformer), ("clf", …)])``
    whose text columns are TF-IDF or binary-count vectorizers (compiled as above) and whose
    other columns pass through; the same output as scikit-learn (a test checks it).
    :meth:`build` returns ``None`` for any other shape."""

    def __init__(self, parts: list, clf, weights: dict):
        self.parts, self.clf, self.weights = parts, clf, weights
        self.classes_ = clf.classes_

    @classmethod
    def build(cls, pipe) -> "CompiledColumnPipeline | None":
        from sklearn.compose import ColumnTransformer
        from sklearn.pipeline import Pipeline

        if not isinstance(pipe, Pipeline) or len(pipe.steps) != 2:
            return None
        ct, clf = pipe.steps[0][1], pipe.steps[1][1]
        if not isinstance(ct, ColumnTransformer) or not hasattr(clf, "predict_proba") or ct.sparse_threshold != 1.0:
            return None
        # columns no transformer reads (the frame's "text", for the optional encoder) are
        # dropped by the remainder: fine; a remainder that keeps or transforms them is not
        if getattr(ct, "remainder", "drop") != "drop" or any(
                n == "remainder" and not (isinstance(e, str) and e == "drop") for n, e, _ in ct.transformers_):
            return None
        from sklearn.preprocessing import FunctionTransformer

        parts = []
        for name, est, cols in ct.transformers_:
            identity = isinstance(est, FunctionTransformer) and est.func is None and est.inverse_func is None
            if isinstance(est, str) and est == "drop":
                continue
            if (isinstance(est, str) and est == "passthrough") or identity:
                parts.append((name, cols, None))
            elif isinstance(cols, str) and supported(est):
                parts.append((name, cols, CompiledTfidf(est)))
            elif isinstance(cols, str) and counts_supported(est):
                parts.append((name, cols, CompiledCounts(est)))
            else:
                return None
        return cls(parts, clf, dict(ct.transformer_weights or {}))

    def with_clf(self, clf) -> "CompiledColumnPipeline":
        """The same compiled features in front of another classifier."""
        return CompiledColumnPipeline(self.parts, clf, self.weights)

    def transform(self, frame: pd.DataFrame) -> sparse.csr_matrix:
        blocks = []
        for name, cols, comp in self.parts:
            X = sparse.csr_matrix(frame[cols].to_numpy(dtype=np.float64)) if comp is None else comp.transform(frame[cols].tolist())
            w = self.weights.get(name)
            blocks.append(X * w if w is not None else X)
        return sparse.hstack(blocks, format="csr")

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.clf.predict_proba(self.transform(frame))
