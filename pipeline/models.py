"""The pipeline's model: the sentence, relation and table-row classifiers in one folder.

``models/NAME/`` holds ``sentence.skops`` (the sentence classifier,
:mod:`pipeline.stance.model`), ``relation.skops`` (the relation and direction pipelines,
:mod:`pipeline.relations.model`), optionally ``table.skops`` (the row stance of a table
from its two position cells, :mod:`pipeline.tables.model`), ``card.json`` and ``card.md``. Files, hashes and the
model id are handled by :mod:`pipeline.modelling.folder`; the id travels into every row
the model produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from sklearn.pipeline import Pipeline

from pipeline.contracts import Prediction
from pipeline.modelling.folder import ModelError, load_folder, read_card, save_folder, sha256_file  # noqa: F401
from pipeline.relations.model import RelationModel
from pipeline.stance.lexicon import Lexicon
from pipeline.stance.model import SentenceModel

SENTENCE, RELATION, TABLE, SENTENCE_SPARSE = "sentence", "relation", "table", "sentence_sparse"
#: The only non-standard types a model file may contain; anything else is refused.
TRUSTED_TYPES = frozenset({
    "pipeline.stance.features.CueFeatures",
    "pipeline.stance.features.CueAbstraction",
    "pipeline.stance.features.clean_text",
    "pipeline.stance.features.stem_text",
    "pipeline.encoder.EncoderFeatures",  # parameters only: the weights are checked by their SHA-256
})


@dataclass
class LoadedModel:
    """A loaded model folder."""

    sentence: SentenceModel
    relation: RelationModel
    card: dict
    folder: Path
    model_id: str
    table: object = None  # pipeline.tables.model.TableModel, or None (a folder without table.skops)
    sentence_sparse: SentenceModel | None = None  # encoder models: for sentences not encoded

    @property
    def pipeline(self) -> Pipeline:
        """The sentence classifier's scikit-learn pipeline."""
        return self.sentence.pipeline

    @property
    def lexicon(self) -> Lexicon:
        return self.sentence.lexicon

    def predict(self, texts: Sequence[str], encode: Sequence[bool] | None = None) -> list[Prediction]:
        """Sentence stance of each text (one ``predict_proba`` call per classifier).

        ``encode``: for a model with a sentence encoder, which texts need it; the others
        go to the sparse twin (``sentence_sparse``). ``None``: every text the full model."""
        if encode is None or self.sentence_sparse is None:
            return self.sentence.predict(texts)
        if len(encode) != len(texts):
            raise ValueError("encode must have one flag per text")
        full = [i for i, e in enumerate(encode) if e]
        rest = [i for i, e in enumerate(encode) if not e]
        out: list[Prediction | None] = [None] * len(texts)
        for idx, model in ((full, self.sentence), (rest, self.sentence_sparse)):
            for i, p in zip(idx, model.predict([texts[i] for i in idx])):
                out[i] = p
        return out

    @property
    def needs_encoding(self) -> bool:
        """True when :meth:`predict` can skip the encoder for some texts (see ``encode``)."""
        return self.sentence_sparse is not None

    @property
    def files(self) -> dict[str, str]:
        return dict(self.card.get("files", {}))


def _vectorizers(obj):
    """Every fitted text vectorizer inside a pipeline (Pipeline, FeatureUnion,
    ColumnTransformer, dicts of them)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.pipeline import FeatureUnion

    if isinstance(obj, dict):
        for v in obj.values():
            yield from _vectorizers(v)
    elif isinstance(obj, Pipeline):
        for _, step in obj.steps:
            yield from _vectorizers(step)
    elif isinstance(obj, FeatureUnion):
        for _, t in obj.transformer_list:
            yield from _vectorizers(t)
    elif isinstance(obj, ColumnTransformer):
        for _, t, _ in getattr(obj, "transformers_", obj.transformers):
            yield from _vectorizers(t)
    elif isinstance(obj, CountVectorizer) and hasattr(obj, "vocabulary_"):  # TfidfVectorizer too
        yield obj


def freeze_vocabularies(obj) -> list:
    """Vocabularies as one array of terms (column order) instead of a dict: skops stores a
    dict entry by entry and audits each on loading, an array as one block (loading the
    default model: several seconds less). Returns what :func:`thaw_vocabularies` undoes."""
    import numpy as np

    done = []
    for vec in _vectorizers(obj):
        if isinstance(vec.vocabulary_, dict):
            terms = [""] * len(vec.vocabulary_)
            for t, i in vec.vocabulary_.items():
                terms[i] = t
            vec.vocabulary_ = np.asarray(terms, dtype=str)
            done.append(vec)
    return done


def thaw_vocabularies(obj) -> None:
    """Back from :func:`freeze_vocabularies`: ``vocabulary_`` as scikit-learn's dict."""
    import numpy as np

    for vec in _vectorizers(obj):
        if isinstance(vec.vocabulary_, np.ndarray):
            vec.vocabulary_ = {str(t): i for i, t in enumerate(vec.vocabulary_.tolist())}


def save_model(objects: dict, card: dict, folder: str | Path, markdown=None) -> str:
    """Write a model folder; ``objects`` has the sentence pipeline under ``"sentence"`` and
    ``RelationModel.to_save()`` (``{"relation": Pipeline, "direction": classifier | None}``)
    under ``"relation"``. Vocabularies are stored frozen (see :func:`freeze_vocabularies`);
    the objects are left as they were."""
    freeze_vocabularies(objects)
    try:
        return save_folder(folder, objects, card, markdown)
    finally:
        thaw_vocabularies(objects)


def load_model(folder: str | Path) -> LoadedModel:
    """Load a model folder, refusing foreign types, unverifiable cards and files that do
    not match the card."""
    folder = Path(folder)
    try:  # optional files: the table-row classifier (--tables), the sparse twin (--encoder)
        listed = read_card(folder)["files"]
    except ModelError:
        listed = {}  # load_folder says what is wrong
    names = (SENTENCE, RELATION) + tuple(n for n in (TABLE, SENTENCE_SPARSE) if f"{n}.skops" in listed)
    objs, card, model_id = load_folder(folder, names, TRUSTED_TYPES)
    if card.get("encoder"):  # before any work: the encoder is there and its weights are intact
        from pipeline.encoder import EncoderError, load_encoder

        enc = card["encoder"]
        try:
            load_encoder(enc.get("name", "minilm"), quantize=bool(enc.get("quantized_int8", False)))
        except EncoderError as exc:
            raise ModelError(f"{folder}: this model uses the sentence encoder {enc.get('name')!r}: {exc}") from None
    thaw_vocabularies(objs)
    sent = objs[SENTENCE]
    if not isinstance(sent, Pipeline):
        raise ModelError(f"{folder}: {SENTENCE}.skops holds a {type(sent).__name__}, not a scikit-learn Pipeline")
    rel = objs[RELATION]
    if not isinstance(rel, dict) or not isinstance(rel.get("relation"), Pipeline):
        raise ModelError(f"{folder}: {RELATION}.skops must hold {{'relation': Pipeline, 'direction': classifier}}")
    direction = rel.get("direction")
    if direction is not None and not (isinstance(direction, Pipeline) or hasattr(direction, "predict_proba")):
        raise ModelError(f"{folder}: the direction model is a {type(direction).__name__}, not a classifier")
    min_dir = float(card.get("relation", {}).get("settings", {}).get("min_direction", 0.5))
    sentence = SentenceModel(sent)
    sparse = None
    if SENTENCE_SPARSE in objs:
        if not isinstance(objs[SENTENCE_SPARSE], Pipeline):
            raise ModelError(f"{folder}: {SENTENCE_SPARSE}.skops holds a {type(objs[SENTENCE_SPARSE]).__name__}, "
                             "not a scikit-learn Pipeline")
        sparse = SentenceModel(objs[SENTENCE_SPARSE])
    table = None
    if TABLE in objs:
        from pipeline.tables.model import TableModel

        if not isinstance(objs[TABLE], Pipeline):
            raise ModelError(f"{folder}: {TABLE}.skops holds a {type(objs[TABLE]).__name__}, not a scikit-learn Pipeline")
        table = TableModel(objs[TABLE], sentence.predict, sentence.lexicon)
    return LoadedModel(sentence, RelationModel(rel["relation"], direction, min_dir), card, folder, model_id, table,
                       sparse)


def model_fingerprint(folder: str | Path) -> str:
    """A SHA-256 over the model folder's files (what ``run.json`` reports)."""
    import hashlib

    folder = Path(folder)
    h = hashlib.sha256()
    for name in (f"{SENTENCE}.skops", f"{RELATION}.skops"):
        p = folder / name
        h.update(f"{name}:{sha256_file(p) if p.exists() else ''}\n".encode())
    return h.hexdigest()
