"""The Python API: relation records from a text, or a whole run, without the command line.

Two functions, both also importable from the package itself (``from pipeline import
extract, run``):

* :func:`extract` -- one text or :class:`~pipeline.contracts.Article` in, its relation
  records out, as :class:`~pipeline.contracts.RelationRecord` dataclasses or as a
  :class:`pandas.DataFrame` with the columns of the ``records`` table.
* :func:`run` -- files, folders or globs in, every output table written to a folder
  (what ``stance run`` does); returns the run summary (the content of ``run.json``).

Both go through the same code as ``stance run``: ingestion
(:func:`pipeline.ingestion.build_article`), the chunk function
(:func:`pipeline.chunk.process_chunk`) with the resources of
:func:`pipeline.chunk.load_resources`, and the same model (default: the ``[run]
default_model`` setting, ``models/default``). So a text gives the same records here as in
``records.csv`` after ``stance run`` on a file holding that text.

The model and the spaCy pipeline take a few seconds to load; :func:`extract` loads them
once per model folder and keeps them for later calls in the same process.

Examples
--------
>>> from pipeline import extract
>>> text = ("The United States and Russia agreed to extend the New START treaty. "
...         "China criticised Japan over the disputed islands.")
>>> recs = extract(text)
>>> sorted({(r.sentence_id, r.actor_a, r.actor_b, r.stance) for r in recs})
[(0, 'RUS', 'USA', 'convergence'), (1, 'CHN', 'JPN', 'divergence')]
>>> df = extract(text, as_frame=True)
>>> list(df.columns[:4])
['article_id', 'sentence_id', 'actor_a', 'actor_b']
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from pipeline.contracts import Article, RelationRecord

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from pipeline.chunk import Resources

__all__ = ["extract", "run", "load", "clear_cache", "RelationRecord", "ExtractionError"]

#: ``stance run --format`` values
RUN_FORMATS = ("csv", "jsonl", "parquet", "plover")
ENGINES = ("local", "dask")


class ExtractionError(RuntimeError):
    """The pipeline could not process an article (the reason ``errors.csv`` would give)."""


# loaded resources, one entry per (model folder, spaCy base pipeline); the lock also
# serialises process_chunk: the spaCy pipeline and its memory zone are not thread-safe
_CACHE: dict[tuple[str, str | None], "Resources"] = {}
_LOCK = threading.RLock()


def _model_dir(model: str | os.PathLike | None) -> Path:
    """The model folder: ``model``, or the default of ``stance run`` (``[run] default_model``)."""
    from pipeline.cli._util import resolve_model

    return Path(resolve_model(Path(model) if model is not None else None))


def load(model: str | os.PathLike | None = None, *, spacy_model: str | None = None) -> "Resources":
    """Load (or return the cached) resources :func:`extract` runs with.

    Parameters
    ----------
    model : str or path-like, optional
        Model folder. Default: the one ``stance run`` uses (``models/default``).
    spacy_model : str, optional
        Installed spaCy pipeline to tokenise with (``stance run --spacy-model``).

    Returns
    -------
    pipeline.chunk.Resources
        The spaCy pipeline with the recognisers, the loaded model, the rules and the
        settings, as :func:`pipeline.chunk.load_resources` builds them.

    Raises
    ------
    pipeline.modelling.folder.ModelError
        The model folder does not exist or is not a valid model.
    """
    from pipeline.chunk import load_resources
    from pipeline.config import load_settings
    from pipeline.executors import paused_gc
    from pipeline.models import load_model

    if spacy_model:  # its components may run on PyTorch: let thinc see it (pipeline/_spacy.py)
        os.environ.setdefault("STANCE_SPACY_TORCH", "1")
    folder = _model_dir(model)
    key = (str(folder.resolve()), spacy_model)
    with _LOCK:
        res = _CACHE.get(key)
        if res is None:
            with paused_gc():  # as stance run does: everything loaded here lives on
                loaded = load_model(folder)  # ModelError on a missing or bad folder
                res = load_resources(folder, load_settings(), spacy_model, model=loaded)
            _CACHE[key] = res
        return res


def clear_cache() -> None:
    """Forget the resources loaded by :func:`extract` / :func:`load` (frees their memory)."""
    from pipeline.chunk import close_zone

    with _LOCK:
        for res in _CACHE.values():
            close_zone(res)
        _CACHE.clear()


def _article(text_or_article, *, path: str, meta: dict) -> Article:
    from pipeline.ingestion import build_article

    if isinstance(text_or_article, Article):
        given = {k: v for k, v in meta.items() if v is not None}
        if given:
            raise TypeError(f"extract(Article, ...): {', '.join(sorted(given))} cannot be given with an Article "
                            f"(set them on the Article)")
        return text_or_article
    if isinstance(text_or_article, bytes):
        raise TypeError("extract() takes text (str), not bytes: decode it first")
    if not isinstance(text_or_article, str):
        raise TypeError(f"extract() takes a str or a pipeline.contracts.Article, not {type(text_or_article).__name__}")
    # InputError (a ValueError) on empty text or an over-long paragraph, as for a file
    return build_article(text_or_article, path=path, meta={k: v for k, v in meta.items() if v is not None})


def extract(
    text_or_article: str | Article,
    *,
    model: str | os.PathLike | None = None,
    as_frame: bool = False,
    path: str = "<text>",
    title: str | None = None,
    date: str | None = None,
    source: str | None = None,
    url: str | None = None,
    article_id: str | None = None,
    spacy_model: str | None = None,
) -> "list[RelationRecord] | pd.DataFrame":
    """Relation records of one article: who converges or diverges with whom, on what.

    The text goes through exactly what ``stance run`` does to an input file (layout,
    sentences, actors and topics, sentence stance, the relation classifier, records).

    Parameters
    ----------
    text_or_article : str or pipeline.contracts.Article
        The article text (plain text or markdown; a ``# Title`` line, headings, bullets and
        tables are recognised as in a ``.txt`` / ``.md`` file), or an already built
        :class:`~pipeline.contracts.Article` (e.g. from :func:`pipeline.ingestion.ingest`).
    model : str or path-like, optional
        Model folder. Default: the one ``stance run`` uses (``models/default``). Loaded
        once per folder and kept for later calls.
    as_frame : bool, default False
        Return a :class:`pandas.DataFrame` (the columns, column order and dtypes of the
        ``records`` output table) instead of a list of dataclasses.
    path : str, default "<text>"
        What the article's ``path`` says (only used for a text).
    title, date, source, url, article_id : str, optional
        Article metadata, as the fields of a JSONL input record (only for a text). The
        article id defaults to the hash of the text, as for an input file; ``date`` must
        be ISO 8601 (otherwise it is left empty).
    spacy_model : str, optional
        Installed spaCy pipeline to tokenise with (``stance run --spacy-model``).

    Returns
    -------
    list of pipeline.contracts.RelationRecord or pandas.DataFrame
        One record per (sentence, related actor pair, topic), in text order. The fields
        are the columns of ``records.csv``: ``article_id``, ``sentence_id``, ``actor_a`` <
        ``actor_b`` (country codes), ``pair_source``, ``source_actor``, ``target_actor``,
        ``topic``, ``stance`` (``convergence`` / ``divergence`` / ``neutral``), ``score``
        (in [-1, 1]), the probabilities, ``cues``, ``evidence`` (the sentence),
        ``section``, ``block_kind``, ``start`` / ``end`` (offsets into the article text)
        and ``model_id``. Empty when no related pair of states is found.

    Raises
    ------
    ValueError
        Empty text, or a paragraph over ``[ingest] max_block_chars``
        (:class:`pipeline.ingestion.reading.InputError`).
    TypeError
        Neither a str nor an Article; or metadata given with an Article.
    pipeline.modelling.folder.ModelError
        The model folder does not exist or is not a valid model.
    ExtractionError
        The pipeline failed on the article (``stance run`` would write an error row).

    See Also
    --------
    run : the same for files and folders, writing every output table.

    Examples
    --------
    >>> from pipeline import extract
    >>> recs = extract("The United States and Russia agreed to extend the New START treaty. "
    ...                "China criticised Japan over the disputed islands.")
    >>> [(r.actor_a, r.actor_b, r.stance) for r in recs]
    [('RUS', 'USA', 'convergence'), ('CHN', 'JPN', 'divergence')]
    >>> recs[0].topic, recs[0].evidence
    ('arms_control', 'The United States and Russia agreed to extend the New START treaty.')
    >>> recs[1].source_actor, recs[1].target_actor
    ('CHN', 'JPN')

    As a DataFrame, with the columns of ``records.csv``:

    >>> df = extract("China criticised Japan over the disputed islands.", as_frame=True)
    >>> df[["actor_a", "actor_b", "stance"]].to_dict("records")
    [{'actor_a': 'CHN', 'actor_b': 'JPN', 'stance': 'divergence'}]

    A text without two states in a relation gives no records:

    >>> extract("It rained in Paris on Monday.")
    []
    """
    from pipeline.chunk import process_chunk

    art = _article(text_or_article, path=path,
                   meta={"title": title, "date": date, "source": source, "url": url, "id": article_id})
    res = load(model, spacy_model=spacy_model)
    with _LOCK:
        tables = process_chunk([art], res)
    failed = [e for e in tables.errors if e["severity"] == "error"]
    if failed:
        raise ExtractionError(f"{art.path}: {failed[0]['reason']}")
    if as_frame:
        from pipeline.schemas import frame

        return frame("records", tables.records)
    return [RelationRecord(**row) for row in tables.records]


def _output_problem(out: Path) -> str:
    from pipeline.cli.run import output_problem

    return output_problem(out)


def run(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    out: str | os.PathLike,
    *,
    model: str | os.PathLike | None = None,
    fmt: str = "csv",
    workers: int = 1,
    store: str | os.PathLike | None = None,
    chunk_size: int | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    spacy_model: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Run the pipeline over files, folders or globs and write every output table.

    The same as ``stance run PATH... -o OUT``, with the same defaults and checks, but
    problems raise exceptions instead of ending the process.

    Parameters
    ----------
    paths : str, path-like or iterable of them
        Files, folders or globs (``.txt .md .html .jsonl .csv``). A single path may be
        given as it is.
    out : str or path-like
        Output folder (created if needed; ``stance run -o``, whose default is ``out``).
    model : str or path-like, optional
        Model folder. Default: the one ``stance run`` uses (``models/default``).
    fmt : {"csv", "jsonl", "parquet", "plover"}, default "csv"
        Output format (``plover``: JSONL tables plus ``plover.jsonl`` events).
    workers : int, default 1
        Worker processes (local engine) or Dask workers.
    store : str or path-like, optional
        DuckDB store to accumulate runs in; articles already in it are skipped.
    chunk_size : int, optional
        Articles per chunk (default: ``[run] chunk_size``, 100).
    engine : {"local", "dask"}, default "local"
    scheduler : str, optional
        Dask scheduler address (default: a LocalCluster).
    spacy_model : str, optional
        Installed spaCy pipeline to tokenise with.
    progress : callable, optional
        Called with (articles done, words done) after each chunk.

    Returns
    -------
    dict
        The run summary, also written to ``OUT/run.json``: ``counts`` (``inputs_read``,
        ``articles_processed``, ``inputs_failed``, ``warnings``, ``sentences``,
        ``records``, ``relations``, ``table_rows``, ``articles_skipped_in_store``),
        ``check``, ``model``, ``versions``, ``timings`` and ``files`` (table name -> path
        written). Inputs that could not be read are not an exception: they are counted
        in ``counts["inputs_failed"]`` and explained in the ``errors`` table (``stance
        run`` exits with status 1 when every input failed).

    Raises
    ------
    ValueError
        An unknown format or engine, ``workers`` or ``chunk_size`` below 1, no paths, or
        an output folder that cannot be created or written.
    pipeline.modelling.folder.ModelError
        The model folder does not exist or is not a valid model (raised before any output
        is written).
    pipeline.store.StoreError
        The store cannot be opened.

    See Also
    --------
    extract : records of one text, in memory.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from pipeline import run
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (tmp / "a.txt").write_text("China criticised Japan over the disputed islands.", encoding="utf-8")
    >>> summary = run([tmp / "a.txt"], tmp / "out")
    >>> summary["counts"]["articles_processed"], summary["counts"]["records"]
    (1, 1)
    >>> sorted(p.name for p in (tmp / "out").glob("*.csv"))[:3]
    ['articles.csv', 'check.csv', 'errors.csv']
    >>> import shutil; shutil.rmtree(tmp)
    """
    from pipeline.runner import RunOptions
    from pipeline.runner import run as run_pipeline

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError("no input paths given")
    if fmt not in RUN_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose csv, jsonl, parquet or plover")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose local or dask")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, not {workers!r}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be an integer >= 1, not {chunk_size!r}")
    out = Path(out)
    if spacy_model:  # its components may run on PyTorch: let thinc see it (pipeline/_spacy.py)
        os.environ.setdefault("STANCE_SPACY_TORCH", "1")
    model_dir = _model_dir(model)
    problem = _output_problem(out)
    if problem:
        raise ValueError(problem)
    return run_pipeline(RunOptions(paths=paths, out=out, model=model_dir, fmt=fmt, engine=engine, workers=workers,
                                   scheduler=scheduler, chunk_size=chunk_size,
                                   store=Path(store) if store is not None else None, base_model=spacy_model,
                                   progress=progress))
