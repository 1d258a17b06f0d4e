"""A repaired file keeps its encoding, BOM, line endings and final newline."""

from __future__ import annotations

import codecs

import pytest

from mechanic.write.textfile import NotText, decode, encode


@pytest.mark.parametrize(
    "data",
    [
        b"x = 1\ny = 2\n",
        b"x = 1\r\ny = 2\r\n",
        b"x = 1\ny = 2",
        codecs.BOM_UTF8 + b"x = 1\r\n",
        "s = 'caf\u00e9'\n".encode(),
        b"\tindented = 1\n",
    ],
)
def test_decoding_and_encoding_round_trips_exactly(data):
    text, fmt = decode(data, "python")
    assert "\r" not in text
    assert encode(text, fmt) == data


def test_a_python_coding_declaration_is_honoured():
    data = "# -*- coding: latin-1 -*-\nname = 'caf\u00e9'\n".encode("latin-1")
    text, fmt = decode(data, "python")
    assert "caf\u00e9" in text
    assert fmt.encoding == "iso-8859-1"
    assert encode(text.replace("name", "nom"), fmt) == data.replace(b"name", b"nom")


def test_a_models_line_endings_are_replaced_by_the_files_own():
    _, fmt = decode(b"a = 1\r\nb = 2\r\n", "python")
    assert encode("a = 1\nb = 3\n", fmt) == b"a = 1\r\nb = 3\r\n"
    assert encode("a = 1\r\nb = 3", fmt) == b"a = 1\r\nb = 3\r\n"


def test_blank_lines_around_the_code_are_the_files_own():
    _, fmt = decode(b"\n\na = 1\n\n\n", "python")
    assert encode("a = 2", fmt) == b"\n\na = 2\n\n\n"


def test_a_file_without_final_newline_stays_without_one():
    _, fmt = decode(b"a = 1", "python")
    assert encode("a = 2\n\n", fmt) == b"a = 2"


def test_the_bom_is_kept_even_if_the_model_drops_it():
    _, fmt = decode(codecs.BOM_UTF8 + b"const a = 1;\n", "javascript")
    assert encode("const a = 2;\n", fmt) == codecs.BOM_UTF8 + b"const a = 2;\n"


def test_binary_content_is_not_text():
    with pytest.raises(NotText, match="binary"):
        decode(b"\x7fELF\x00\x00\x01", "python")


def test_invalid_utf8_is_not_text():
    with pytest.raises(NotText):
        decode(b"const a = '\xff\xfe';\n", "javascript")
