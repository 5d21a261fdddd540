"""stance-pipeline: convergence / divergence records between states from news articles.

The package is laid out by stage, in the order the data flows::

    ingestion -> segmentation -> recognition -> stance -> records -> checking -> export
                                                              engine (chunks, workers, Dask) / store (DuckDB)

Typed records passed between stages live in :mod:`pipeline.contracts`.
"""

__version__ = "0.1.0"
