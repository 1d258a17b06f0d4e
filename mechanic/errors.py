"""The errors mechanic raises, as one hierarchy a caller can catch at any level.

MechanicError            any other error a user meets (exit 1)
├── ConfigError          bad config: names the key, the file and the line (exit 2)
│   └── ProbeConfigError a [[probe]]'s keys do not fit together (names the key)
├── Busy                 another mechanic process holds the state folder (exit 3)
│   ├── CycleBusy        another cycle holds it
│   └── DaemonRunning    another daemon holds it
├── StoreError           the SQLite store cannot be opened or written (busy, unwritable)
│   └── StoreUnusable    the store is empty, another program's, corrupt or too new (exit 2)
├── Refused              the transaction will not write this file; nothing was written
├── ReviewError          a pending patch cannot be accepted or rejected
├── ServiceError         the user service cannot be rendered, installed or inspected
├── NotDone              a request by hand (accept, revert, restore...) cannot be done
├── CheckerUnavailable   a language's checker cannot run here (node missing...)
└── BackendError         the model could not be asked or did not answer
    ├── BackendUnavailable   nothing listens at the host, or the library is missing
    ├── ModelNotFound        the server runs but does not have the model
    ├── BackendTimeout       no answer within timeout_seconds
    └── BackendResponseError the server answered with an error

The CLI catches them once, in `mechanic.cli.main.main`, and maps them to the exit
codes above; a command never catches one just to print it.
"""

from __future__ import annotations

from pathlib import Path


class MechanicError(Exception):
    """Base of every error mechanic raises on purpose."""


class ConfigError(MechanicError):
    """The configuration is unusable; the message names the key and where it is."""

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        file: Path | str | None = None,
        line: int | None = None,
    ) -> None:
        self.key = key
        self.file = Path(file) if file is not None else None
        self.line = line
        self.detail = message
        where = ""
        if self.file is not None:
            where = f"{self.file}:{line}: " if line else f"{self.file}: "
        subject = f"{key}: " if key else ""
        super().__init__(f"{where}{subject}{message}")


class Busy(MechanicError):
    """Another cycle or daemon holds the state folder: nothing was judged, which is
    not the same answer as "broken files remain"."""


class CycleBusy(Busy):
    """Another cycle holds this state folder."""


class DaemonRunning(Busy):
    """Another daemon holds this state folder."""


class StoreError(MechanicError):
    """The state store cannot be used now (locked, unwritable)."""


class StoreUnusable(StoreError):
    """The state store file is there but is not a usable mechanic store: empty,
    another program's database, corrupt, or written by a newer mechanic. Nothing
    runs on it until a person repairs it (`mechanic store check --rebuild`)."""

    REBUILD = "mechanic store check --rebuild"

    def __init__(self, problem: str, repair: str = "") -> None:
        self.problem = problem
        self.repair = repair or f"keep it aside and start a new store: {self.REBUILD}"
        super().__init__(f"{problem}; to repair it, {self.repair}")


class ProbeConfigError(ConfigError):
    """A probe's keys do not fit together; `key` names the key to point at. The
    config loader turns it into a ConfigError that also names the file and line."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message, key=key)


class Refused(MechanicError):
    """The transaction will not write this file; nothing was written."""


class ReviewError(MechanicError):
    """A pending patch cannot be accepted or rejected; the message says why."""


class ServiceError(MechanicError):
    """The service could not be rendered, installed or inspected."""


class CheckerUnavailable(MechanicError):
    """A checker's tool is missing, so files of its language cannot be judged."""


class BackendError(MechanicError):
    """The model backend failed; nothing was written because of it.

    `prompt_sent` is True when the prompt had left mechanic (the model, or
    whatever listens at the host, received it) before the failure."""

    def __init__(self, message: str, *, prompt_sent: bool = False) -> None:
        self.prompt_sent = prompt_sent
        super().__init__(message)


class BackendUnavailable(BackendError):
    """The backend cannot be reached or loaded at all."""


class ModelNotFound(BackendError):
    """The backend runs but lacks the configured model."""


class BackendTimeout(BackendError):
    """The backend did not answer within the configured timeout."""


class BackendResponseError(BackendError):
    """The backend answered with an error status."""

    def __init__(
        self, message: str, status_code: int | None = None, *, prompt_sent: bool = False
    ) -> None:
        self.status_code = status_code
        super().__init__(message, prompt_sent=prompt_sent)


class NotDone(MechanicError):
    """What a person asked for by hand (accept, reject, revert, restore) cannot be
    done; the message says why, and nothing was written."""
