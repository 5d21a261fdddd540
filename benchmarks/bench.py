"""Throughput and peak memory of `stance run`, as ratios against spaCy's bare
``spacy.blank("en")`` + sentencizer over the same text in the same process.

Each configuration runs in a fresh child process that (1) reads the articles, (2) times
the baseline: tokenizer + sentencizer over every article text, (3) times the whole
pipeline (ingestion, segmentation, recognition, stance, records, tables, check, CSV
writing) with the local engine or a process pool, and reports words/s, articles/s and
its own peak RSS (children included). Usage::

    python benchmarks/bench.py [--news PATH.jsonl] [--sizes 1 4 16] [--against OTHER_CHECKOUT] [--out benchmarks/results.md]

``--against DIR`` also times another checkout of this repository (with its own
``models/default``) on the real news file, one worker, alternating with this one (two runs
each), and reports this checkout's words/s as a share of that one's: how a change moves the
speed, measured in one run on one machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "articles"

CHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
import spacy
sys.path.insert(0, {root!r})
from pipeline.contracts import Article
from pipeline.ingestion import ingest
from pipeline.runner import RunOptions, run

src, workers = Path({src!r}), {workers}
texts = [a.text for a in ingest([str(src)]) if isinstance(a, Article)]
words = sum(len(t.split()) for t in texts)
nlp = spacy.blank("en"); nlp.add_pipe("sentencizer")
t0 = time.perf_counter()
n_sents = sum(len(list(d.sents)) for d in nlp.pipe(texts, batch_size=64))
base = time.perf_counter() - t0
with tempfile.TemporaryDirectory() as out:
    t0 = time.perf_counter()
    s = run(RunOptions(paths=[str(src)], out=Path(out), model=Path({model!r}), workers=workers))
    full = time.perf_counter() - t0
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
print(json.dumps({{"articles": len(texts), "words": words, "baseline_s": base, "pipeline_s": full,
                  "records": s["counts"]["records"], "sentences": s["counts"]["sentences"], "peak_rss_mb": peak}}))
"""


MEMCHILD = r"""
import json, resource, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, {root!r})
from pipeline.runner import RunOptions, run

with tempfile.TemporaryDirectory() as out:
    t0 = time.perf_counter()
    s = run(RunOptions(paths=[{src!r}], out=Path(out), model=Path({model!r})))
    secs = time.perf_counter() - t0
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
print(json.dumps({{"seconds": secs, "peak_rss_mb": peak, "processed": s["counts"]["articles_processed"],
                  "failed": s["counts"]["inputs_failed"]}}))
"""


def short_lines(path: Path, n_chars: int) -> Path:
    """A text file of short lines ("Treaty talks moscow.") of about ``n_chars`` characters."""
    import random

    rng = random.Random(3)
    words = "the united states and russia agreed talks moscow washington sanctions treaty".split()
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        while n < n_chars:
            line = " ".join(rng.choice(words) for _ in range(3)).capitalize() + ".\n"
            fh.write(line)
            n += len(line)
    return path


def measure_memory(src: Path, root: Path = ROOT) -> dict:
    code = MEMCHILD.format(root=str(root), src=str(src), model=str(root / "models" / "default"))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory_section(tmp: Path) -> list[str]:
    """Peak RSS on one huge article against a normal run, in the same session: memory is
    bounded per article (``[ingest] max_article_chars``), not only per chunk."""
    from pipeline.config import load_settings

    most = int(load_settings().get("ingest", "max_article_chars", 500_000))
    cases = [("the bundled corpus (baseline)", CORPUS),
             (f"the longest accepted article: {most:,} characters of short lines", short_lines(tmp / "longest.txt", most - 100)),
             ("19.9 MB .txt of 1,000,000 short lines (reported, not processed)", short_lines(tmp / "huge.txt", 19_900_000))]
    out = ["", "Memory per article (one worker; peak RSS of the whole process):", "",
           "| input | processed | failed | seconds | peak RSS MB | ratio to baseline |", "|---|---:|---:|---:|---:|---:|"]
    base = None
    for name, src in cases:
        r = measure_memory(src)
        base = base or r["peak_rss_mb"]
        out.append(f"| {name} | {r['processed']} | {r['failed']} | {r['seconds']:.1f} | {r['peak_rss_mb']:,.0f} | "
                   f"{r['peak_rss_mb'] / base:.2f} |")
        print(out[-1], flush=True)
    return out


def bundled_jsonl(times: int, folder: Path) -> Path:
    """The bundled corpus as one JSONL file, repeated ``times`` times with distinct ids."""
    from pipeline.contracts import Article
    from pipeline.ingestion import ingest

    sys.path.insert(0, str(ROOT))
    arts = [a for a in ingest([str(CORPUS)]) if isinstance(a, Article)]
    path = folder / f"bundled_x{times}.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for k in range(times):
            for a in arts:
                fh.write(json.dumps({"id": f"{a.id}-{k}", "text": a.text, "date": a.date}, ensure_ascii=False) + "\n")
    return path


def measure(src: Path, workers: int = 1, root: Path = ROOT, model: Path | None = None, env_extra: dict | None = None) -> dict:
    import os

    code = CHILD.format(root=str(root), src=str(src), workers=workers, model=str(model or root / "models" / "default"))
    env = dict(os.environ, STANCE_ENCODER_THREADS="1", **(env_extra or {}))  # one core per worker process, encoder included
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    r["baseline_wps"] = r["words"] / r["baseline_s"]
    r["pipeline_wps"] = r["words"] / r["pipeline_s"]
    r["ratio"] = r["pipeline_wps"] / r["baseline_wps"]
    r["articles_per_s"] = r["articles"] / r["pipeline_s"]
    r["sentences_per_s"] = r.get("sentences", 0) / r["pipeline_s"]
    return r


def encoder_section(news: Path) -> list[str]:
    """The default (sparse) model against models/encoder on the same real news, one core
    and two workers: articles/s and sentences/s (skipped without the encoder extra)."""
    from pipeline.encoder import available

    enc_model = ROOT / "models" / "encoder"
    why = available("minilm") or ("" if (enc_model / "card.json").exists() else "models/encoder not built")
    if why:
        return ["", f"Encoder: not measured ({why})."]
    # the first 200 articles: the encoder runs at about a hundred sentences per second per core
    sample = Path(tempfile.mkdtemp()) / f"{news.stem}_200.jsonl"
    with open(news, encoding="utf-8") as src, open(sample, "w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i >= 200:
                break
            dst.write(line)
    from pipeline.encoder import _has

    out = ["", f"With and without the sentence encoder, on the first 200 articles of {news.name} "
               "(one thread per worker process; the encoder model encodes only sentences with a candidate "
               "pair and table cells):", "",
           "| model | runtime | workers | articles/s | sentences/s | records | peak RSS MB |",
           "|---|---|---:|---:|---:|---:|---:|"]
    runs = [("default (sparse)", ROOT / "models" / "default", "")]
    runs += [("encoder (MiniLM + sparse)", enc_model, rt) for rt in (("onnx", "torch") if _has("onnxruntime") else ("torch",))]
    for name, model, rt in runs:
        for w in (1, 2):
            r = measure(sample, w, model=model, env_extra={"STANCE_ENCODER_RUNTIME": rt} if rt else None)
            out.append(f"| {name} | {rt or '-'} | {w} | {r['articles_per_s']:,.1f} | {r['sentences_per_s']:,.0f} | "
                       f"{r['records']:,} | {r['peak_rss_mb']:,.0f} |")
            print(out[-1], flush=True)
    return out


def report_section(src: Path, tmp: Path) -> list[str]:
    """`stance report` on a real run: the run (2 workers) is the baseline, timed in the
    same session; the report's time, size and pages against it."""
    import time

    out, rep = tmp / "report_run", tmp / "report"
    cli = [sys.executable, "-m", "pipeline"]
    t0 = time.perf_counter()
    subprocess.run([*cli, "run", str(src), "-o", str(out), "--workers", "2", "-q"], check=True, cwd=ROOT)
    run_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([*cli, "report", str(out), "-o", str(rep), "-q"], check=True, cwd=ROOT)
    rep_s = time.perf_counter() - t0
    files = [p for p in rep.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    records = json.loads((out / "run.json").read_text(encoding="utf-8"))["counts"]["records"]
    pages = sum(1 for p in files if p.suffix == ".html")
    arts = sum(1 for p in (rep / "articles").glob("*.html")) - 1
    out_lines = ["", f"`stance report` on {src} ({records:,} records), in the same session as its run:", "",
                 "| step | seconds | ratio to the run | size MB | pages (article pages) |", "|---|---:|---:|---:|---:|",
                 f"| stance run --workers 2 (baseline) | {run_s:.1f} | 1.00 | | |",
                 f"| stance report | {rep_s:.1f} | {rep_s / run_s:.2f} | {size / 1e6:.1f} | {pages} ({arts}) |"]
    print("\n".join(out_lines), flush=True)
    return out_lines


def row(name: str, r: dict) -> str:
    return (f"| {name} | {r['articles']:,} | {r['words']:,} | {r['baseline_wps']:,.0f} | {r['pipeline_wps']:,.0f} | "
            f"{r['articles_per_s']:,.1f} | **{r['ratio']:.1%}** | {r['peak_rss_mb']:,.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--news", type=Path, help="a real news JSONL file, e.g. allsides_abp_intl_security.jsonl")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.md")
    ap.add_argument("--against", type=Path, help="another checkout to time on --news in the same run")
    ap.add_argument("--report", type=Path, help="a file or folder to run, then time `stance report` on its outputs")
    args = ap.parse_args()
    for name in ("news", "against", "report"):  # the children run in other folders
        if getattr(args, name) is not None:
            setattr(args, name, getattr(args, name).resolve())
    sys.path.insert(0, str(ROOT))
    lines = [
        "| run | articles | words | baseline words/s | pipeline words/s | articles/s | ratio to baseline | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for k in args.sizes:
            r = measure(bundled_jsonl(k, tmp), 1)
            results[f"bundled x{k}"] = r
            lines.append(row(f"bundled corpus x{k}, 1 worker", r))
            print(lines[-1], flush=True)
        big = max(args.sizes)
        r = measure(bundled_jsonl(big, tmp), 2)
        results[f"bundled x{big} 2 workers"] = r
        lines.append(row(f"bundled corpus x{big}, 2 workers", r))
        print(lines[-1], flush=True)
        lines += memory_section(tmp)
        if args.report:
            lines += report_section(args.report, tmp)
        if args.news:
            for w in (1, 2):
                r = measure(args.news, w)
                results[f"{args.news.name} {w}w"] = r
                lines.append(row(f"{args.news.name}, {w} worker{'s' if w > 1 else ''}", r))
                print(lines[-1], flush=True)
    if args.news:
        lines += encoder_section(args.news)
    if args.news and args.against:
        runs = {"this": [], "other": []}
        for _ in range(2):
            for name, root in (("other", args.against.resolve()), ("this", ROOT)):
                runs[name].append(measure(args.news, 1, root))
        best = {k: max(v, key=lambda r: r["pipeline_wps"]) for k, v in runs.items()}
        lines += ["", f"Against {args.against} on {args.news.name}, 1 worker, best of two alternating runs each:", "",
                  "| checkout | records | pipeline words/s | ratio to baseline |", "|---|---:|---:|---:|",
                  *[f"| {k} | {r['records']:,} | {r['pipeline_wps']:,.0f} | {r['ratio']:.1%} |" for k, r in best.items()],
                  "", f"This checkout's speed is **{best['this']['pipeline_wps'] / best['other']['pipeline_wps']:.1%}** of the other's."]
        print("\n".join(lines[-7:]), flush=True)
    one = results[f"bundled x{big}"]
    two = results[f"bundled x{big} 2 workers"]
    lines += ["", f"Scaling 1 -> 2 workers (bundled x{big}): {two['pipeline_wps'] / one['pipeline_wps']:.2f}x; "
              f"size scaling x1 -> x{big} in words/s: {one['pipeline_wps'] / results[f'bundled x{min(args.sizes)}']['pipeline_wps']:.2f}x "
              f"(fixed start-up cost is amortised as the corpus grows)."]
    text = "\n".join(lines) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
