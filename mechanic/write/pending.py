"""Where review mode keeps a validated fix instead of writing it:
`<backup_dir>/pending/<sha256>.fix`, private, written atomically. The
transaction keeps it (mechanic/write/transaction.py); `mechanic accept` and
`reject` decide it (mechanic/write/review.py)."""

from __future__ import annotations

import os
from pathlib import Path

from mechanic.files import private
from mechanic.files.atomic import write_atomic


def fix_path(backup_dir: Path, new_sha: str) -> Path:
    return backup_dir / "pending" / f"{new_sha}.fix"


def keep(fixed: bytes, new_sha: str, backup_dir: Path) -> Path:
    """Store the fixed bytes durably under their hash; raises OSError."""
    path = fix_path(backup_dir, new_sha)
    private.make_folder(path.parent)
    # A whole fixed file, as private as the backups beside it; `.part` is the
    # name recovery clears when a dead process left it.
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    write_atomic(path, fixed, mode=private.FILE_MODE, temp=part)
    return path
