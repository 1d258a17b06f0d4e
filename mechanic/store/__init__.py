"""The only code that talks to a database: the local SQLite store of attempts,
probe results, cooldowns and review.

    connection.py  the connection, errors, the checks that refuse a bad file
    migrations.py  the schema as numbered steps, recorded in the store
    file.py        creating the file whole; the ID floor of a replacing store
    store.py       Store: the table groups below over one connection
    attempts.py  holds.py  review.py  tracking.py  memory.py  probes.py

The names below are the public ones; import them from here.
"""

from mechanic.store.attempts import OUTCOMES, AttemptRecord, Cycle, RungStats, Totals
from mechanic.store.file import ID_BLOCK, STORE_NAME
from mechanic.store.holds import Cooldown, NeedsPerson, Refusal
from mechanic.store.memory import RememberedFix
from mechanic.store.probes import (
    PROBE_RESULT_DAYS,
    FixActionRecord,
    ProbeAction,
    ProbeEvent,
    ProbeState,
)
from mechanic.store.review import Patch
from mechanic.store.store import Store, StoreReport, check_store, rebuild_store
from mechanic.store.tracking import FileState, LogOffset, RuntimeErrorRecord

__all__ = [
    "ID_BLOCK",
    "OUTCOMES",
    "PROBE_RESULT_DAYS",
    "STORE_NAME",
    "AttemptRecord",
    "Cooldown",
    "Cycle",
    "FileState",
    "FixActionRecord",
    "LogOffset",
    "NeedsPerson",
    "Patch",
    "ProbeAction",
    "ProbeEvent",
    "ProbeState",
    "Refusal",
    "RememberedFix",
    "RungStats",
    "RuntimeErrorRecord",
    "Store",
    "StoreReport",
    "Totals",
    "check_store",
    "rebuild_store",
]
