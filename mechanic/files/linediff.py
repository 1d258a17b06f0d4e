"""Line alignment whose cost stays near-linear on any file.

difflib's SequenceMatcher is quadratic on repetitive input: 40,000 lines of
`x = 1` took 116 s to align with a one-line edit of themselves. Every place that
aligns a file's lines (re-encoding an answer, the changed region, an answer's
scope, the diff of a fix) goes through `matcher` instead:

- inputs small enough (at most MAX_CELLS line pairs) get difflib itself,
  exactly as before;
- larger ones are cut down first: the common head and tail are matched in one
  pass; what is left goes to difflib if small enough, else to Myers' O((N+M)·D)
  diff, which is quick when few lines differ (D small: a fix, an answer) and is
  given up once it has done MAX_WORK steps; then lines that occur once in each
  side (and in the same order, a longest increasing subsequence, n log n) anchor
  the rest, as patience diff does, and the stretches between anchors are aligned
  the same way. A stretch still too big with nothing unique to anchor on is left
  unmatched. Unmatched lines read as changed: every caller then errs on the
  careful side (a line keeps the answer's text, a region grows, an answer looks
  bigger), never on a wrong match.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import math
from collections.abc import Hashable, Iterator, Sequence

# Above this many line pairs difflib's worst case stops being instant (~0.1 s).
MAX_CELLS = 250_000
# Steps of Myers' diff one alignment may take in all (well under a second of Python).
MAX_WORK = 400_000

Match = difflib.Match


class _Aligned(difflib.SequenceMatcher):
    """A SequenceMatcher whose matching blocks were found by `_align`; every
    other method (opcodes, grouped opcodes, ratio) works from them unchanged."""

    def __init__(self, a: Sequence[Hashable], b: Sequence[Hashable]) -> None:
        # b is set after: difflib's index of b (quadratic to use, slow to build)
        # is never needed, since the matching blocks are given.
        super().__init__(None, a, [], autojunk=False)
        self.b = b
        self._blocks = _blocks(_align(a, b), len(a), len(b))

    def get_matching_blocks(self) -> list[Match]:
        return list(self._blocks)


def matcher(a: Sequence[Hashable], b: Sequence[Hashable]) -> difflib.SequenceMatcher:
    """A SequenceMatcher over `a` and `b` (autojunk off) that never goes quadratic."""
    if len(a) * len(b) <= MAX_CELLS:
        return difflib.SequenceMatcher(None, a, b, autojunk=False)
    return _Aligned(a, b)


def unified_diff(a: Sequence[str], b: Sequence[str], fromfile: str, tofile: str) -> Iterator[str]:
    """difflib.unified_diff's output (3 lines of context, lines keeping their
    ends), from `matcher`'s alignment."""
    started = False
    for group in matcher(a, b).get_grouped_opcodes(3):
        if not started:
            started = True
            yield f"--- {fromfile}\n"
            yield f"+++ {tofile}\n"
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in a[i1:i2])
                continue
            if tag in ("replace", "delete"):
                yield from ("-" + line for line in a[i1:i2])
            if tag in ("replace", "insert"):
                yield from ("+" + line for line in b[j1:j2])


def _range(start: int, stop: int) -> str:
    # A hunk's range as unified diffs write it (difflib's own rule): "3,2", "3", "2,0".
    length = stop - start
    first = start + 1 if length else start
    return str(first) if length == 1 else f"{first},{length}"


def _align(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Match]:
    """Runs of matched lines (i, j, size), increasing in both, without the sentinel."""
    runs: list[Match] = []
    stack = [(0, len(a), 0, len(b))]
    budget = [MAX_WORK]  # shared by every stretch, so the whole stays bounded
    while stack:  # a stack, not recursion: stretches can nest deeply
        alo, ahi, blo, bhi = stack.pop()
        head = _snake(a, alo, ahi, b, blo, bhi) - alo
        runs.append(Match(alo, blo, head))
        alo, blo = alo + head, blo + head
        tail = _snake_back(a, alo, ahi, b, blo, bhi)
        ahi, bhi = ahi - tail, bhi - tail
        runs.append(Match(ahi, bhi, tail))
        if alo == ahi or blo == bhi:
            continue
        if (ahi - alo) * (bhi - blo) <= MAX_CELLS:
            found = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
            runs += [Match(alo + r.a, blo + r.b, r.size) for r in found.get_matching_blocks()]
            continue
        found_runs = _myers(a, alo, ahi, b, blo, bhi, budget)
        if found_runs is not None:
            runs += found_runs
            continue
        anchors = _unique_anchors(a, alo, ahi, b, blo, bhi)
        runs += [Match(i, j, 1) for i, j in anchors]
        edges = [(alo - 1, blo - 1), *anchors, (ahi, bhi)]
        for (i0, j0), (i1, j1) in itertools.pairwise(edges):
            if i1 - i0 > 1 and j1 - j0 > 1:
                stack.append((i0 + 1, i1, j0 + 1, j1))
        # No anchor: the stretch is left unmatched (see the module docstring).
    return sorted(r for r in runs if r.size)


def _myers(
    a: Sequence[Hashable],
    alo: int,
    ahi: int,
    b: Sequence[Hashable],
    blo: int,
    bhi: int,
    budget: list[int],
) -> list[Match] | None:
    """A shortest edit script's matched runs (Myers 1986), or None once the
    budget is spent: each round d costs its 2d+1 diagonals plus the snakes."""
    n, m = ahi - alo, bhi - blo
    # Round d costs at least 2d+1 steps, so the budget allows about sqrt(budget) rounds.
    cap = min(n + m, math.isqrt(max(budget[0], 0)) + 1)
    offset = cap + 1
    v = [0] * (2 * cap + 3)  # v[offset + k]: furthest x reached on diagonal k
    trace: list[list[int]] = []  # v around the diagonals of each round, for the way back
    for d in range(cap + 1):
        trace.append(v[offset - d - 1 : offset + d + 2])
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and v[offset + k - 1] < v[offset + k + 1]):
                x = v[offset + k + 1]  # down: a line of b inserted
            else:
                x = v[offset + k - 1] + 1  # right: a line of a deleted
            start = x
            x = _snake(a, alo + x, ahi, b, blo + x - k, bhi) - alo
            budget[0] -= 1 + (x - start) // 32  # a snake runs at C speed, a slice at a time
            v[offset + k] = x
            if x >= n and x - k >= m:
                return _backtrack(trace, n, m, alo, blo)
        if budget[0] <= 0:
            return None
    return None


def _snake(a: Sequence[Hashable], i: int, ahi: int, b: Sequence[Hashable], j: int, bhi: int) -> int:
    """The end (in a) of the run of equal lines from a[i] and b[j]; long runs
    are compared a slice at a time, at C speed."""
    step = 64
    while i + step <= ahi and j + step <= bhi and a[i : i + step] == b[j : j + step]:
        i, j, step = i + step, j + step, step * 2
    while i < ahi and j < bhi and a[i] == b[j]:
        i, j = i + 1, j + 1
    return i


def _snake_back(
    a: Sequence[Hashable], alo: int, ahi: int, b: Sequence[Hashable], blo: int, bhi: int
) -> int:
    """How many lines a[alo:ahi] and b[blo:bhi] end with in common."""
    tail, step = 0, 64
    while (
        ahi - tail - step >= alo
        and bhi - tail - step >= blo
        and a[ahi - tail - step : ahi - tail] == b[bhi - tail - step : bhi - tail]
    ):
        tail, step = tail + step, step * 2
    while alo < ahi - tail and blo < bhi - tail and a[ahi - tail - 1] == b[bhi - tail - 1]:
        tail += 1
    return tail


def _backtrack(trace: list[list[int]], n: int, m: int, alo: int, blo: int) -> list[Match]:
    runs: list[Match] = []
    x, y = n, m
    for d in range(len(trace) - 1, -1, -1):
        v, at = trace[d], d + 1  # v[at + k]: diagonal k before round d
        k = x - y
        down = k == -d or (k != d and v[at + k - 1] < v[at + k + 1])
        before = k + 1 if down else k - 1
        px = v[at + before]
        py = px - before
        run = min(x - px, y - py)  # the snake into (x, y): a diagonal
        if run > 0:
            runs.append(Match(alo + x - run, blo + y - run, run))
        x, y = px, py
    return runs


def _unique_anchors(
    a: Sequence[Hashable], alo: int, ahi: int, b: Sequence[Hashable], blo: int, bhi: int
) -> list[tuple[int, int]]:
    """Lines occurring exactly once in a[alo:ahi] and once in b[blo:bhi], the
    longest run of them in the same order on both sides."""
    count_a: dict[Hashable, int] = {}
    for i in range(alo, ahi):
        count_a[a[i]] = count_a.get(a[i], 0) + 1
    where_b: dict[Hashable, int] = {}
    count_b: dict[Hashable, int] = {}
    for j in range(blo, bhi):
        count_b[b[j]] = count_b.get(b[j], 0) + 1
        where_b[b[j]] = j
    candidates = [
        (i, where_b[a[i]]) for i in range(alo, ahi) if count_a[a[i]] == 1 and count_b.get(a[i]) == 1
    ]
    return _increasing(candidates)


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of `pairs` (sorted by i) whose j increase too."""
    tails: list[int] = []  # tails[k]: j of the smallest tail of a run of length k+1
    tail_index: list[int] = []
    back: list[int] = []
    for index, (_i, j) in enumerate(pairs):
        k = bisect.bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_index.append(index)
        else:
            tails[k], tail_index[k] = j, index
        back.append(tail_index[k - 1] if k else -1)
    run: list[tuple[int, int]] = []
    index = tail_index[-1] if tail_index else -1
    while index >= 0:
        run.append(pairs[index])
        index = back[index]
    return run[::-1]


def _blocks(runs: list[Match], n: int, m: int) -> list[Match]:
    """Runs as SequenceMatcher's matching blocks: adjacent ones joined, and its sentinel."""
    blocks: list[Match] = []
    for run in runs:
        last = blocks[-1] if blocks else None
        if last and last.a + last.size == run.a and last.b + last.size == run.b:
            blocks[-1] = Match(last.a, last.b, last.size + run.size)
        else:
            blocks.append(run)
    blocks.append(Match(n, m, 0))
    return blocks
