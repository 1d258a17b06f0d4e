"""Source bytes ⇄ text, keeping a file's encoding, BOM, line endings and final newline.

The model sees plain text with "\\n" line endings; what is written back is
re-encoded exactly the way the original was, whatever the model answered.
"""

from __future__ import annotations

import codecs
import io
import tokenize
from dataclasses import dataclass

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class TextFormat:
    encoding: str
    bom: bytes
    newline: str
    # Blank lines around the code: models drop or add them, the file keeps its own.
    leading_newlines: int
    trailing_newlines: int


class NotText(ValueError):
    """The bytes are not text in any encoding mechanic can keep intact."""


def decode(data: bytes, language: str) -> tuple[str, TextFormat]:
    """Text with "\\n" line endings, and the format to re-encode it the same way."""
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise NotText("binary content (NUL bytes)")
    bom, encoding = b"", "utf-8"
    for marker, name in _BOMS:
        if data.startswith(marker):
            bom, encoding = marker, name
            break
    if not bom and language == "python":
        # PEP 263: a coding declaration in the first two lines decides.
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as exc:
            raise NotText(str(exc)) from None
        encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    try:
        raw = data[len(bom) :].decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise NotText(f"not valid {encoding} text: {exc}") from None
    crlf = raw.count("\r\n")
    lone_cr = raw.count("\r") - crlf
    lf = raw.count("\n") - crlf
    newline = "\r\n" if crlf > max(lf, lone_cr) else "\r" if lone_cr > lf else "\n"
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    leading = len(text) - len(text.lstrip("\n"))
    trailing = len(text) - len(text.rstrip("\n")) if text.strip("\n") else 0
    return text, TextFormat(encoding, bom, newline, leading, trailing)


def encode(text: str, fmt: TextFormat) -> bytes:
    """Bytes for `text` in the original file's format."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    text = "\n" * fmt.leading_newlines + text + "\n" * fmt.trailing_newlines
    if fmt.newline != "\n":
        text = text.replace("\n", fmt.newline)
    return fmt.bom + text.encode(fmt.encoding)
