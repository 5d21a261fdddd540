"""``stance annotate --serve FILE``: a small labeller on 127.0.0.1 for users without
Label Studio or Prodigy.

One item at a time (the sentence, its pair, the article context a click away), keys
1 / 2 / 3 / 0 for convergence / divergence / neutral / none, ``u`` or Backspace to undo,
progress. Every answer is written at once into FILE's ``label`` column (the whole CSV
rewritten to a temporary file and renamed over it, so the file is always whole): closing
the tab, or the server, loses nothing. Standard library only (``http.server``); the page
loads nothing from outside.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import pandas as pd

from pipeline.annotate import ITEM_COLUMNS, KEYS, AnnotateError
from pipeline.export import atomic_write_text, csv_text
from pipeline.labels import RELATION_LABELS


class Store:
    """The item CSV and its answers; one lock around every change."""

    def __init__(self, path: Path, annotator: str = ""):
        self.path = Path(path)
        try:
            df = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise AnnotateError(f"{path}: cannot read CSV ({str(exc).splitlines()[0]})") from None
        missing = [c for c in ("item_id", "kind", "text", "label") if c not in df.columns]
        if missing:
            raise AnnotateError(f"{path}: not an annotate CSV (no {', '.join(missing)}); make one with `stance annotate … -o FILE.csv`")
        if df["item_id"].duplicated().any():
            raise AnnotateError(f"{path}: item_id values repeat")
        from pipeline.report.data import unneutralise

        for col in df.columns:
            df[col] = df[col].map(unneutralise)
        for col in ITEM_COLUMNS:
            if col not in df.columns:
                df[col] = ""
        self.df = df
        self.annotator = annotator
        self.lock = threading.Lock()
        self.history: list[str] = []  # item ids in the order answered in this session

    def state(self) -> dict:
        with self.lock:
            items = self.df[["item_id", "kind", "text", "pair", "marks", "context", "suggestion", "source", "topic", "label"]]
            return {"items": items.to_dict(orient="records"), "keys": KEYS, "can_undo": bool(self.history),
                    "file": str(self.path)}

    def _save(self) -> None:
        text = csv_text(self.df)
        atomic_write_text(self.path, text)

    def answer(self, item_id: str, label: str) -> None:
        if label not in RELATION_LABELS:
            raise AnnotateError(f"unknown label {label!r}")
        with self.lock:
            hit = self.df.index[self.df["item_id"] == item_id]
            if not len(hit):
                raise AnnotateError(f"no item {item_id!r}")
            self.df.loc[hit, "label"] = label
            if self.annotator:
                self.df.loc[hit, "annotator"] = self.annotator
            self._save()
            self.history.append(item_id)

    def undo(self) -> str | None:
        with self.lock:
            if not self.history:
                return None
            item_id = self.history.pop()
            self.df.loc[self.df["item_id"] == item_id, "label"] = ""
            self._save()
            return item_id


def _handler(store: Store, page: bytes):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: one line per request is noise for a labeller
            pass

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, code: int, data) -> None:
            self._send(code, json.dumps(data, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path in ("/", "/index.html"):
                self._send(200, page, "text/html; charset=utf-8")
            elif self.path == "/api/state":
                self._json(200, store.state())
            else:
                self._json(404, {"error": "not found"})

        def do_POST(self):  # noqa: N802
            try:
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(min(n, 1_000_000)) or b"{}")
                if self.path == "/api/answer":
                    store.answer(str(body.get("item_id", "")), str(body.get("label", "")))
                    self._json(200, {"ok": True, "saved_at": datetime.now(timezone.utc).isoformat()})
                elif self.path == "/api/undo":
                    self._json(200, {"ok": True, "undone": store.undo()})
                else:
                    self._json(404, {"error": "not found"})
            except (AnnotateError, ValueError) as exc:
                self._json(400, {"error": str(exc)})

    return Handler


def make_server(path: Path, port: int = 0, annotator: str = "") -> ThreadingHTTPServer:
    """The labeller's server on 127.0.0.1 (``port`` 0: any free port)."""
    store = Store(path, annotator)
    page = (resources.files("pipeline.annotate") / "static" / "labeller.html").read_bytes()
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(store, page))
    server.store = store  # type: ignore[attr-defined]
    return server

