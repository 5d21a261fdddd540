"""stance-pipeline: convergence / divergence records between states from news articles.

The package is laid out by stage, in the order the data flows::

    ingestion -> segmentation -> recognition -> stance -> records -> checking -> export
                                                              engine (chunks, workers, Dask) / store (DuckDB)

Typed records passed between stages live in :mod:`pipeline.contracts`.

The Python API (:mod:`pipeline.api`) is importable from here::

    from pipeline import extract, run

    records = extract("China criticised Japan over the disputed islands.")
    summary = run(["corpus/articles"], "out")

Both are loaded on first use, so ``import pipeline`` stays cheap (no spaCy, no scikit-learn).
"""

__version__ = "0.1.0"

__all__ = ["__version__", "extract", "run"]

_API = ("extract", "run")


def __getattr__(name: str):
    """PEP 562: ``pipeline.extract`` / ``pipeline.run`` import :mod:`pipeline.api` on first use."""
    if name in _API:
        from pipeline import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_API))
