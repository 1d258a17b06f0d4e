"""People come first: a file someone saves while mechanic works on it is left
exactly as they saved it, whenever in the repair the save lands."""

from __future__ import annotations

import random
import threading
import time

from tests.support.ollama_standin import Reply
from tests.support.repairing import attempt

BROKEN = "def total(items):\n    return sum(items\n"
FIXED = "def total(items):\n    return sum(items)\n"


def person(number: int) -> bytes:
    return f"def total(items):\n    return sum(items)  # fixed by hand, take {number}\n".encode()


def saving(path, data: bytes, pause: float):
    """A stand-in hook: the person saves `pause` seconds into the model's answer time."""

    def save(_request) -> None:
        time.sleep(pause)
        path.write_bytes(data)

    return save


def starting_to_save(savers: list, path, data: bytes, pause: float):
    """A stand-in hook: the person saves `pause` seconds after the request, in
    parallel with whatever mechanic does by then."""

    def start(_request) -> None:
        savers.append(threading.Thread(target=saving(path, data, pause), args=(None,)))
        savers[-1].start()

    return start


def test_a_save_during_the_model_call_is_never_overwritten(workspace, ollama_standin):
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    path = workspace.file("calc.py", BROKEN)
    rng = random.Random()
    for number in range(25):
        path.write_text(BROKEN)

        save = saving(path, person(number), rng.uniform(0, 0.01))
        ollama_standin.reply(Reply(FIXED, on_request=save, delay_seconds=rng.uniform(0, 0.01)))
        record = attempt(workspace, path)
        assert path.read_bytes() == person(number)
        assert record.outcome == "skipped"
        assert "changed by someone" in record.reason


def test_a_save_at_any_instant_of_the_repair_wins(workspace, ollama_standin):
    """The save lands at a random instant from the model call through the
    write: before the last look at the file it makes mechanic step back; after
    the rename it simply replaces the fix. Either way the person's bytes stay."""
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    path = workspace.file("calc.py", BROKEN)
    rng = random.Random()
    outcomes = []
    for number in range(40):
        path.write_text(BROKEN)
        savers: list[threading.Thread] = []
        start = starting_to_save(savers, path, person(number), rng.uniform(0, 0.03))
        ollama_standin.reply(Reply(FIXED, on_request=start, delay_seconds=rng.uniform(0, 0.01)))
        record = attempt(workspace, path)
        savers[0].join()
        assert path.read_bytes() == person(number), record
        outcomes.append(record.outcome)
    assert set(outcomes) <= {"applied", "skipped"}
