"""Which files mechanic watches, and which of them it must never touch.

Globs use gitignore semantics (pathspec): a pattern without a slash, like
`core.js`, matches that file name in any folder; `lib/core.js` or `/core.js`
match relative to the watch root; `**` crosses folders.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from mechanic.config.locate import located_error
from mechanic.config.policy import ALWAYS_PROTECTED, LARGE_ROOT_FILES
from mechanic.config.settings import Config, WatchRoot
from mechanic.detect.checkers import language_of
from mechanic.errors import ConfigError

# A child name no real file has: a folder is pruned when this imaginary child
# would be excluded, which is exactly when every file below it would be.
_PROBE_CHILD = "\x01mechanic-probe\x01"


def _spec(patterns: Iterable[str]) -> pathspec.PathSpec:
    return pathspec.PathSpec.from_lines("gitignore", list(patterns))


@dataclass(frozen=True)
class WatchedFile:
    """A file under a watch root that a checker can judge."""

    path: Path  # where it was found (possibly a symlink inside the root)
    real: Path  # the file itself, symlinks resolved; always inside the root
    root: Path  # the watch root, resolved
    rel: str  # path relative to the root, with forward slashes
    language: str
    size: int
    mtime_ns: int


class Guard:
    """Answers "may mechanic read this into a prompt or write it?".

    The answer is no for a protected file; for anything outside every watch
    root once symlinks and `..` are resolved, so a link cannot smuggle a
    protected or foreign file past the check; and for a file with more than one
    hard link, since its other names may be protected or outside every root
    (and replacing it would silently split the links). Patterns match
    case-insensitively: on a case-insensitive filesystem `CORE.JS` is `core.js`.
    """

    def __init__(self, protected: Iterable[str], roots: Iterable[Path]) -> None:
        self.patterns = tuple(protected)
        # A user's "!pattern" can lift a user or default pattern, never one of
        # the secrets in ALWAYS_PROTECTED. Those match a file's own name only: a
        # folder called `secretary/` holds no secret.
        self._always = tuple(p.lower() for p in ALWAYS_PROTECTED)
        self._spec = _spec(p.lower() for p in self.patterns)
        self.roots = tuple(Path(os.path.realpath(r)) for r in roots)

    @classmethod
    def from_config(cls, config: Config) -> Guard:
        """The guard a config asks for: its protected patterns, its watch roots."""
        return cls(config.mechanic.protected, [w.path for w in config.watches])

    def root_of(self, real: Path) -> Path | None:
        for root in self.roots:
            if real == root or root in real.parents:
                return root
        return None

    def matches(self, rel: str) -> bool:
        rel = rel.lower()
        name = rel.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(name, p) for p in self._always) or self._spec.match_file(rel)

    def refusal(self, path: Path) -> str | None:
        """Why `path` must not be read into a prompt nor written, or None.

        Both the name it was reached by and the name it resolves to are matched,
        so a link named `helper.js` pointing at `core.js` is protected too.
        """
        real = Path(os.path.realpath(path))
        root = self.root_of(real)
        if root is None:
            return "outside every watch root (after resolving links and ..)"
        names = {real.relative_to(root).as_posix()}
        for candidate_root in self.roots:
            try:
                names.add(Path(os.path.abspath(path)).relative_to(candidate_root).as_posix())
            except ValueError:
                continue
        if any(self.matches(name) for name in names):
            return "protected"
        try:
            info = os.stat(real)
        except OSError:
            return None  # the reader reports a missing or unreadable file itself
        if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            return (
                f"has {info.st_nlink} hard links: its other names may be protected or"
                " outside the watch roots, and replacing it would split them"
            )
        return None

    def is_protected(self, path: Path) -> bool:
        """True unless `path` resolves inside a watch root to an unprotected file."""
        return self.refusal(path) is not None


class Finder:
    """Walks the watch roots and yields the files a checker can judge."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.guard = Guard.from_config(config)
        self._specs: dict[WatchRoot, tuple[pathspec.PathSpec, pathspec.PathSpec]] = {}

    def files(self) -> Iterator[WatchedFile]:
        """Every watched file. Raises ConfigError once a root yields more than
        LARGE_ROOT_FILES without allow_large_root, before anything is repaired."""
        seen: set[Path] = set()
        for index, watch in enumerate(self.config.watches):
            for count, found in enumerate(self._walk(watch), 1):
                if count > LARGE_ROOT_FILES and not watch.allow_large_root:
                    raise self._too_large(index, watch)
                if found.real not in seen:  # a file reachable twice is checked once
                    seen.add(found.real)
                    yield found

    def check_sizes(self) -> None:
        """The limit of `files()`, checked now (for the daemon, before it starts)."""
        for index, watch in enumerate(self.config.watches):
            if watch.allow_large_root:
                continue
            for count, _ in enumerate(self._walk(watch), 1):
                if count > LARGE_ROOT_FILES:
                    raise self._too_large(index, watch)

    def _too_large(self, index: int, watch: WatchRoot) -> ConfigError:
        return located_error(
            self.config,
            f"watch[{index}].allow_large_root",
            f"{watch.path} holds more than {LARGE_ROOT_FILES} watched files: set"
            " allow_large_root = true in this [[watch]] if that is meant, or narrow its"
            " path, include or exclude",
            "watch",
            index,
        )

    def only(self, paths: Iterable[Path]) -> Iterator[WatchedFile]:
        """The watched files among `paths`, judged by the same rules as a walk,
        without walking: a targeted check touches just these files."""
        seen: set[Path] = set()
        for path in paths:
            found = self.lookup(Path(path))
            if found is not None and found.real not in seen:
                seen.add(found.real)
                yield found

    def _walk(self, watch: WatchRoot) -> Iterator[WatchedFile]:
        root = Path(os.path.realpath(watch.path))
        include, exclude = _spec(watch.include), _spec(watch.exclude)
        # followlinks=False: a linked folder may lead anywhere, even in a loop.
        for folder, dirnames, filenames in os.walk(root, followlinks=False):
            rel_folder = os.path.relpath(folder, root)
            prefix = "" if rel_folder == "." else rel_folder.replace(os.sep, "/") + "/"
            dirnames[:] = sorted(
                d for d in dirnames if not exclude.match_file(f"{prefix}{d}/{_PROBE_CHILD}")
            )
            for name in sorted(filenames):
                rel = prefix + name
                language = language_of(name)
                if language is None or not include.match_file(rel):
                    continue
                if exclude.match_file(rel):
                    continue
                found = self._watched(root, Path(folder, name), rel, language)
                if found is not None:
                    yield found

    def lookup(self, path: Path) -> WatchedFile | None:
        """The watched file at `path` (relative parts and symlinks resolved), or None
        when no watch root would yield it: the walk's rules for a single path."""
        real = Path(os.path.realpath(path))
        language = language_of(real.name)
        if language is None:
            return None
        for watch in self.config.watches:
            root = Path(os.path.realpath(watch.path))
            if root not in real.parents:
                continue
            rel = real.relative_to(root).as_posix()
            if watch not in self._specs:
                self._specs[watch] = (_spec(watch.include), _spec(watch.exclude))
            include, exclude = self._specs[watch]
            if not include.match_file(rel) or exclude.match_file(rel):
                continue
            folders = rel.split("/")[:-1]
            pruned = any(
                exclude.match_file("/".join(folders[: depth + 1]) + "/" + _PROBE_CHILD)
                for depth in range(len(folders))
            )
            if not pruned and (found := self._watched(root, real, rel, language)):
                return found
        return None

    def _watched(self, root: Path, path: Path, rel: str, language: str) -> WatchedFile | None:
        try:
            info = os.lstat(path)
            real = path
            if stat.S_ISLNK(info.st_mode):
                real = Path(os.path.realpath(path))
                if root not in real.parents:
                    return None  # a link leading out of its watch root is ignored
                info = os.stat(real)
        except OSError:
            return None  # vanished or unreadable between listing and stat
        if not stat.S_ISREG(info.st_mode):
            return None
        return WatchedFile(
            path=path,
            real=real,
            root=root,
            rel=rel,
            language=language,
            size=info.st_size,
            mtime_ns=info.st_mtime_ns,
        )
