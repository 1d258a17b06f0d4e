"""Source bytes ⇄ text, keeping a file's encoding, BOM, line endings and final newline.

The model sees plain text with "\\n" line endings; what is written back is
re-encoded exactly the way the original was, whatever the model answered:
each line keeps its own ending in a file that mixes them, and the lines a model
merely re-indented with spaces in a tab-indented file (or stripped of trailing
blanks) get their own whitespace back.
"""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from dataclasses import dataclass, field

from mechanic.files import linediff

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
    # The original's lines ("\\n" split) and, when it mixes them, each line's ending.
    lines: tuple[str, ...] = field(default=(), repr=False)
    endings: tuple[str, ...] = field(default=(), repr=False)


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
    endings = _ENDING.findall(raw)
    mixed = tuple(endings) if len(set(endings)) > 1 else ()
    lines = tuple(text.split("\n"))
    return text, TextFormat(encoding, bom, newline, leading, trailing, lines, mixed)


_ENDING = re.compile(r"\r\n|\r|\n")


def encode(text: str, fmt: TextFormat) -> bytes:
    """Bytes for `text` in the original file's format."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    text = "\n" * fmt.leading_newlines + text + "\n" * fmt.trailing_newlines
    lines = text.split("\n")
    if fmt.lines:
        lines = _own_whitespace(lines, list(fmt.lines))
    text = _join_mixed(lines, fmt) if fmt.endings else fmt.newline.join(lines)
    return fmt.bom + text.encode(fmt.encoding)


def _aligned(old: list[str], new: list[str]) -> list[linediff.Match]:
    """Runs of lines that are the same code, whitespace aside (linear time: see
    mechanic/files/linediff.py for why not difflib)."""
    matcher = linediff.matcher([line.strip() for line in old], [line.strip() for line in new])
    return [block for block in matcher.get_matching_blocks() if block.size]


def _tab_width(pairs: list[tuple[str, str]]) -> int:
    for width in (4, 8, 2):
        if all(o.expandtabs(width).rstrip() == n.rstrip() for o, n in pairs if o.startswith("\t")):
            return width
    return 4


def _own_whitespace(new: list[str], old: list[str]) -> list[str]:
    # Only a file indented with tabs alone: in one that mixes them (a TabError),
    # turning every tab into spaces may be the very fix.
    expanded = (
        any(line.startswith("\t") for line in old)
        and not any(line.startswith(" ") for line in old)
        and not any(line.startswith("\t") for line in new)
    )
    out, kept = list(new), [False] * len(new)
    pairs: list[tuple[int, int]] = []
    for i, j, size in _aligned(old, new):
        if old[i : i + size] == new[j : j + size]:
            # Kept byte for byte (most of a file): nothing to give back, and no
            # tab-indented line among them to measure a tab width on.
            kept[j : j + size] = [True] * size
        else:
            pairs += [(i + k, j + k) for k in range(size)]
    width = _tab_width([(old[i], new[j]) for i, j in pairs]) if expanded else 0
    for i, j in pairs:
        before, after = old[i], new[j]
        restorable = before.rstrip() == after.rstrip() or (
            width and before.expandtabs(width).rstrip() == after.expandtabs(width).rstrip()
        )
        # Trailing blanks after a backslash are a syntax error a fix may remove.
        if restorable and not before.rstrip().endswith("\\"):
            out[j] = before
            kept[j] = True
    if width:  # lines the model changed: its spaces back into the file's tabs
        for j, line in enumerate(out):
            if not kept[j]:
                body = line.lstrip(" ")
                spaces = len(line) - len(body)
                out[j] = "\t" * (spaces // width) + " " * (spaces % width) + body
    return out


def _join_mixed(lines: list[str], fmt: TextFormat) -> str:
    """Join `lines` giving each the ending of the original line it is (or
    replaced one for one); a line the model added takes the ending before it."""
    old = list(fmt.lines)
    matcher = linediff.matcher([line.strip() for line in old], [line.strip() for line in lines])
    ending_of: dict[int, str] = {}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for k in range(j2 - j1):
                if i1 + k < len(fmt.endings):
                    ending_of[j1 + k] = fmt.endings[i1 + k]
    out, previous = [], fmt.newline
    for j, line in enumerate(lines[:-1]):
        previous = ending_of.get(j, previous)
        out += [line, previous]
    out.append(lines[-1])
    return "".join(out)
