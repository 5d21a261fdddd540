"""Collect written table rows into corpus/annotations/table_rows.csv.

Usage: python corpus/build/collect_table_rows.py DIR [DIR ...]
Each DIR holds rows_*.csv files written by an annotator (columns row_id, header_topic,
header_a, header_b, actor_a, actor_b, topic_cell, position_a, position_b, stance, note).
Consecutive rows under the same header form one table (``table_id``): the held-out split
and cross-validation keep a table's rows together.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "annotations" / "table_rows.csv"
COLUMNS = ["row_id", "table_id", "source", "actor_a", "actor_b", "header", "topic_cell", "position_a", "position_b",
           "stance", "annotator", "note"]


def main(dirs: list[str]) -> None:
    rows = []
    files = [f for d in dirs for f in sorted(Path(d).glob("rows_*.csv"))]
    if not files:
        raise SystemExit(f"no rows_*.csv in {', '.join(dirs)}: {OUT} left as it is")
    for f in files:
        writer = f.stem.split("_", 1)[1]
        last, k = None, 0
        with open(f, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                header = " | ".join((r["header_topic"], r["header_a"], r["header_b"]))
                if header != last:
                    k, last = k + 1, header
                rows.append({"row_id": r["row_id"], "table_id": f"{writer}{k:02d}", "source": f"written_{writer}",
                             "actor_a": r["actor_a"], "actor_b": r["actor_b"], "header": header,
                             "topic_cell": r["topic_cell"], "position_a": r["position_a"], "position_b": r["position_b"],
                             "stance": r["stance"].strip(), "annotator": f"writer_{writer}", "note": r.get("note", "")})
    tmp = OUT.with_suffix(".csv.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, OUT)
    print(f"{OUT}: {len(rows)} rows")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Collect written table rows (rows_*.csv) into " + str(OUT) + " (rewritten).")
    ap.add_argument("dirs", nargs="+", metavar="DIR")
    main(ap.parse_args().dirs)
