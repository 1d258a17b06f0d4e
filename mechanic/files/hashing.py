"""The one hash mechanic names content by: sha256, as hex."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mechanic.files.userfile import read_regular


def sha256(data: bytes) -> str:
    """The hex sha256 of `data`."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """The hex sha256 of a regular file's bytes; raises OSError (a FIFO, device
    or folder in its place is refused, never opened for reading)."""
    return sha256(read_regular(path))
