"""Reading raw bytes safely: size limits, binary sniffing, decoding with a fallback,
and the text normalisation that every offset in the pipeline refers to."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class InputError(ValueError):
    """An input that cannot be processed; the message is the reason users see."""


def sniff_binary(data: bytes, n: int = 8192) -> bool:
    """True when the first ``n`` bytes look like a binary file (NUL bytes or many controls)."""
    head = data[:n]
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(head) > 0.10


def decode(data: bytes, fallback: str = "cp1252") -> tuple[str, str | None]:
    """Decode bytes as UTF-8 (BOM allowed), else with ``fallback``.

    Returns
    -------
    (text, warning): warning is None when UTF-8 worked, else says what was done.
    """
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        where = exc.start
    for enc in (fallback, "latin-1"):
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        return text, f"not valid UTF-8 (first bad byte at offset {where}); decoded as {enc}"
    raise InputError("cannot decode text")  # pragma: no cover - latin-1 never fails


def normalise(text: str) -> str:
    """The article's normalised text: NFC, ``\\n`` line ends, control characters blanked.

    Quotes, dashes and spacing are kept as they are: offsets point into this text and
    users compare evidence with the original article.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = unicodedata.normalize("NFC", text)
    # same length, so offsets computed after this step stay valid; lone surrogates (text
    # cut in the middle of an emoji) cannot be encoded and become U+FFFD
    return _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", text))


def sniff_encoding(path, fallback: str = "cp1252", block: int = 1 << 20) -> tuple[str, str | None]:
    """Choose the encoding of a whole file: UTF-8 if every byte decodes, else ``fallback``.

    Reads the file once in blocks with an incremental decoder (memory stays small).
    """
    import codecs

    dec = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    with open(path, "rb") as fh:
        while True:
            data = fh.read(block)
            try:
                dec.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                return fallback, f"not valid UTF-8 (first bad byte at offset {offset + exc.start}); decoded as {fallback}"
            if not data:
                return "utf-8-sig", None
            offset += len(data)


def content_hash(text: str) -> str:
    """Short stable hash of a text (16 hex digits of SHA-1)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
