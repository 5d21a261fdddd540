"""Agreement of `check.csv` with expected statuses written by hand for articles with tables.

    python benchmarks/check_eval.py OUTDIR EXPECTED.csv

OUTDIR is a `stance run` output folder over the articles; EXPECTED.csv has
``file, table_index, row_index, row_stance, expected_status`` (file: the article's file
name). Prints the share of rows whose check status, row stance and topic coverage match,
and the confusion of statuses; ``--json`` prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def score(out: Path, expected: Path) -> dict:
    arts = pd.read_csv(out / "articles.csv", keep_default_na=False)
    check = pd.read_csv(out / "check.csv", keep_default_na=False)
    tables = pd.read_csv(out / "tables.csv", keep_default_na=False)
    exp = pd.read_csv(expected, keep_default_na=False)
    arts["file"] = arts["path"].map(lambda p: Path(p).name)
    key = ["article_id", "table_index", "row_index"]
    got = check.merge(tables[key + ["stance"]], on=key, how="left", suffixes=("", "_row"))
    for col in ("reason", "topic_method"):  # outputs of versions before the reasons
        if col not in got.columns:
            got[col] = ""
    got = got.merge(arts[["article_id", "file"]], on="article_id")
    m = exp.merge(got, on=["file", "table_index", "row_index"], how="left", suffixes=("_exp", ""))
    found = m["status"].notna() & (m["status"] != "")
    status_ok = (m["status"] == m["expected_status"])
    stance_ok = (m["table_stance"] == m["row_stance"])
    return {
        "rows": int(len(m)), "rows_found": int(found.sum()),
        "status_agreement": round(float(status_ok.mean()), 4),
        "row_stance_accuracy": round(float(stance_ok.mean()), 4),
        "confusion": pd.crosstab(m["expected_status"], m["status"].fillna("(no row)")).to_dict(),
        "by_file": {f: round(float(g.mean()), 3) for f, g in status_ok.groupby(m["file"])},
        "wrong": m.loc[~status_ok, ["file", "table_index", "row_index", "topic_cell_exp", "row_stance", "table_stance",
                                    "expected_status", "status", "reason", "topic"]].to_dict("records"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("expected", type=Path)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    r = score(a.out, a.expected)
    if a.json:
        print(json.dumps(r, indent=2, default=str))
        return
    print(f"{r['rows']} rows; status agrees with the expected one for {r['status_agreement']:.1%}; "
          f"row stance right for {r['row_stance_accuracy']:.1%}")
    for w in r["wrong"]:
        print("  ", w)


if __name__ == "__main__":
    main()
