"""Tables stage: the article's hand-made tables as rows with a topic and a row stance.

* :mod:`pipeline.tables.layout`: which column is the topic, which is whose position;
* :mod:`pipeline.tables.topics`: the topic cell -> a taxonomy topic (alias, similarity) or
  an ad-hoc topic searched for in the prose by its lemmas;
* :mod:`pipeline.tables.model`: the row stance from the two position cells as two texts;
* :mod:`pipeline.tables.rows`: the rows of ``tables.csv``.
"""

from pipeline.tables.layout import HeaderRule, TableLayout, read_header_rules, read_layout
from pipeline.tables.rows import table_rows
from pipeline.tables.topics import TopicMatch, TopicMatcher

__all__ = ["HeaderRule", "TableLayout", "TopicMatch", "TopicMatcher", "read_header_rules", "read_layout", "table_rows"]
