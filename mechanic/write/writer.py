"""The one writer of user files, as a cycle or a command holds it.

A Writer is built once per cycle (mechanic/cycle.py), and once by each command
that writes (`accept`, `revert`, `restore`), with everything a write needs:
the backup folder, the guard (protected files and watch roots), review or
apply, git commits on or off, and the gate that carries the daemon's stop
request and veto. Nothing about a write is process-wide: two Writers in one
process (a test, a daemon and a command) never see each other's mode or stop.
The sequence of a write is the transaction's (mechanic/write/transaction.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mechanic.config.settings import Config
from mechanic.detect.checkers.base import Checker, Finding
from mechanic.detect.discovery import Guard
from mechanic.write import transaction
from mechanic.write.gate import WriteGate
from mechanic.write.recovery import Recovered, recover_interrupted
from mechanic.write.transaction import Checked, TxResult


@dataclass(frozen=True)
class Writer:
    backup_dir: Path
    guard: Guard
    review: bool = False  # keep validated fixes for a person ([mechanic] apply = "review")
    git_commit: bool = False  # commit each applied fix ([mechanic] git_commit)
    gate: WriteGate = field(default_factory=WriteGate)

    @classmethod
    def for_config(
        cls,
        config: Config,
        *,
        guard: Guard | None = None,
        gate: WriteGate | None = None,
        review: bool | None = None,
    ) -> Writer:
        """The writer `config` asks for. `review=False` for a write a person
        asked for (accept, restore): review mode does not hold it back."""
        settings = config.mechanic
        return cls(
            backup_dir=settings.backup_dir,
            guard=guard or Guard.from_config(config),
            review=settings.apply == "review" if review is None else review,
            git_commit=settings.git_commit,
            gate=gate or WriteGate(),
        )

    def stopping(self) -> bool:
        """True once mechanic has been told to stop: no write begins."""
        return self.gate.stop_requested()

    def check(self, target: Path, fixed: bytes, checker: Checker) -> Checked | Finding:
        """The in-memory check, once: hand the Checked to `apply`."""
        return transaction.check(target, fixed, checker)

    def apply(
        self,
        target: Path,
        *,
        original: bytes,
        fixed: bytes | Checked,
        checker: Checker,
        validate: Callable[[bytes], str | None] | None = None,
        attempt: Mapping[str, Any] | None = None,
    ) -> TxResult:
        return transaction.apply_fix(
            target,
            original=original,
            fixed=fixed,
            checker=checker,
            backup_dir=self.backup_dir,
            guard=self.guard,
            validate=validate,
            review=self.review,
            attempt=attempt,
            gate=self.gate,
        )

    def restore_version(
        self,
        target: Path,
        *,
        current: bytes,
        good: bytes,
        checker: Checker,
        attempt: Mapping[str, Any] | None = None,
    ) -> TxResult:
        return transaction.restore_version(
            target,
            current=current,
            good=good,
            checker=checker,
            backup_dir=self.backup_dir,
            guard=self.guard,
            attempt=attempt,
            gate=self.gate,
        )

    def restore_backup(
        self,
        target: Path,
        *,
        backup: Path,
        expected: bytes,
        original_sha: str | None,
        undoes: int | None = None,
    ) -> str | None:
        return transaction.restore_backup(
            target,
            backup=backup,
            expected=expected,
            guard=self.guard,
            backup_dir=self.backup_dir,
            original_sha=original_sha,
            undoes=undoes,
        )

    def recover(
        self,
        checker_for: Callable[[str], Checker] | None = None,
        record: Callable[[Recovered], None] | None = None,
    ) -> list[Recovered]:
        return recover_interrupted(self.backup_dir, checker_for, record)

    def settle(self, intent: str | None) -> None:
        """An applied write's attempt row is committed: its intent goes."""
        transaction.settle(self.backup_dir, intent)
