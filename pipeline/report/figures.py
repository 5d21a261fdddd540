"""The report's figures: plain SQL over the filtered views of :class:`ReportData`.

Each function returns a DataFrame; nothing here draws or writes. Counts of a pair are
counts of *claims* (distinct sentences: a sentence on two topics is two records of one
claim), counts of a pair and topic are records; the net stance of any cell follows the
rule of ``relations.csv`` (:func:`pipeline.records.net_stance`).
"""

from __future__ import annotations

import pandas as pd

from pipeline.records import net_stance
from pipeline.report.data import ReportData

#: one row per (sentence, pair): what the pair-level views count
_CLAIMS = ("(select distinct article_id, sentence_id, pair, actor_a, actor_b, month, date, stance, score "
           "from records)")


def overview(d: ReportData) -> dict:
    """Counts for the overview page."""
    q = d.scalar
    out = {
        "articles": q("select count(*) from articles"),
        "articles_with_records": q("select count(distinct article_id) from records"),
        "records": q("select count(*) from records"),
        "claims": q(f"select count(*) from {_CLAIMS}"),
        "pairs": q("select count(distinct pair) from records"),
        "failed": q("select count(*) from errors where severity = 'error'"),
        "warnings": q("select count(*) from errors where severity = 'warning'"),
        "undated_records": q("select count(*) from records where date = ''"),
        "table_rows": q("select count(*) from tables"),
    }
    out["by_stance"] = d.df("select stance, count(*) as n from records group by stance order by stance")
    out["by_source"] = d.df("select case when source = '' then '(no source)' else source end as source, "
                            "count(*) as articles, cast(coalesce(sum(n_records), 0) as bigint) as records from articles group by 1 order by 2 desc limit 15")
    # failed inputs: the reason up to its first colon groups "not valid UTF-8: byte 0x.." kinds
    out["failed_reasons"] = d.df(
        "select split_part(reason, ':', 1) as reason, count(*) as n, min(path) as example "
        "from errors where severity = 'error' group by 1 order by n desc, reason limit 20")
    out["failed_list"] = d.df(
        "select path, line, stage, reason from errors where severity = 'error' order by path, line limit 200")
    out["check_status"] = d.df("select status, count(*) as n from check_rows group by status order by status")
    out["check_reasons"] = d.df("select status, reason, count(*) as n from check_rows group by 1, 2 order by 1, 3 desc")
    return out


def main_pairs(d: ReportData, k: int) -> list[str]:
    """The ``k`` pairs with the most claims."""
    df = d.df(f"select pair, count(*) as n from {_CLAIMS} group by pair order by n desc, pair limit {int(k)}")
    return df["pair"].tolist()


def top_topics(d: ReportData, k: int, pairs: list[str] | None = None) -> list[str]:
    where, params = "", []
    if pairs:
        where = "where pair in (select unnest(?))"
        params = [pairs]
    df = d.df(f"select topic, count(*) as n from records {where} group by topic order by n desc, topic limit {int(k)}", params)
    return df["topic"].tolist()


def _net(df: pd.DataFrame, band: float) -> pd.DataFrame:
    df["net_stance"] = [net_stance(c, v, m, band) for c, v, m in
                        zip(df["n_convergence"], df["n_divergence"], df["mean_score"])]
    return df


_COUNTS = ("count(*) as n, count(*) filter (where stance = 'convergence') as n_convergence, "
           "count(*) filter (where stance = 'divergence') as n_divergence, "
           "count(*) filter (where stance = 'neutral') as n_neutral, "
           # the last bits of a float sum depend on the order rows arrive in (one file or a
           # Dask run's parts), and rounding the mean does not fix that at a rounding edge:
           # the scores are summed as integers of 1e-6 (exact in any order; outputs keep six
           # decimals), so the same run gives the same report
           "round(sum(cast(round(score * 1000000) as bigint)) / count(*) / 1000000.0, 9) as mean_score")


def monthly(d: ReportData, pairs: list[str], band: float) -> pd.DataFrame:
    """(pair, month): claims, counts per stance, mean score, net stance (dated articles)."""
    df = d.df(f"select pair, month, {_COUNTS} from {_CLAIMS} where month <> '' and pair in (select unnest(?)) "
              "group by pair, month order by pair, month", [pairs])
    df["month"] = df["month"].astype(str) + "-01"
    return _net(df, band)


def monthly_topics(d: ReportData, pair: str, topics: list[str], band: float) -> pd.DataFrame:
    """(topic, month) of one pair: records, counts, mean score, net stance."""
    df = d.df(f"select topic, month, {_COUNTS} from records where month <> '' and pair = ? "
              "and topic in (select unnest(?)) group by topic, month order by topic, month", [pair, topics])
    df["month"] = df["month"].astype(str) + "-01"
    return _net(df, band)


def undated(d: ReportData, pairs: list[str]) -> int:
    return d.scalar(f"select count(*) from {_CLAIMS} where month = '' and pair in (select unnest(?))", [pairs])


def pair_topic(d: ReportData, pairs: list[str], topics: list[str], band: float) -> pd.DataFrame:
    """(pair, topic): records, counts, mean score, net stance."""
    df = d.df(f"select pair, topic, {_COUNTS} from records where pair in (select unnest(?)) "
              "and topic in (select unnest(?)) group by pair, topic order by pair, topic", [pairs, topics])
    return _net(df, band)


def pair_summary(d: ReportData, pairs: list[str], band: float) -> pd.DataFrame:
    """One row per pair: claims, counts, mean score, net stance, first and last date."""
    df = d.df(f"select pair, {_COUNTS}, count(distinct article_id) as articles, "
              "min(nullif(substr(date, 1, 10), '')) as first_date, max(nullif(substr(date, 1, 10), '')) as last_date "
              f"from {_CLAIMS} where pair in (select unnest(?)) group by pair order by n desc, pair", [pairs])
    return _net(df, band)


def evidence(d: ReportData, pair: str, k: int) -> pd.DataFrame:
    """The ``k`` strongest convergent and ``k`` strongest divergent records of a pair on
    each topic (by score; ties: the more confident relation, then the article order)."""
    return d.df(
        "with ranked as (select r.*, row_number() over (partition by topic, stance order by "
        "case when stance = 'convergence' then -score else score end, p_none, article_id, sentence_id) as rank "
        "from records r where pair = ? and stance in ('convergence', 'divergence')) "
        "select x.article_id, x.sentence_id, x.topic, x.stance, x.score, x.p_none, x.evidence, x.source_actor, "
        "x.target_actor, x.pair_source, a.title, a.date, a.source, a.url from ranked x "
        f"join articles a using (article_id) where rank <= {int(k)} order by topic, stance, rank", [pair])


def top_articles(d: ReportData, k: int) -> list[str]:
    df = d.df(f"select article_id, count(*) as n from records group by article_id order by n desc, article_id limit {int(k)}")
    return df["article_id"].tolist()


def article_list(d: ReportData, ids: list[str]) -> pd.DataFrame:
    return d.df("select a.*, (select count(*) from records r where r.article_id = a.article_id) as n_shown "
                "from articles a where article_id in (select unnest(?)) order by n_shown desc, article_id", [ids])


def article(d: ReportData, article_id: str) -> dict:
    """Everything an article page shows."""
    p = [article_id]
    meta = d.df("select * from articles where article_id = ?", p)
    return {
        "meta": meta.iloc[0].to_dict() if len(meta) else {"article_id": article_id},
        "sentences": d.df("select * from sentences where article_id = ? order by sentence_id", p),
        "records": d.df("select * from records where article_id = ? order by sentence_id, pair, topic", p),
        "tables": d.df("select * from tables where article_id = ? order by table_index, row_index", p),
        "check": d.df("select * from check_rows where article_id = ? order by table_index, row_index", p),
    }
