"""The words an attempt is told with, as types: which rung made it, how it ended.

One module, imported by whoever names a rung or an outcome, so that a typo is a
type error and not a record no query finds. `store` keeps the same outcomes in
its CHECK constraint (`typing.get_args(Outcome)` lists them).
"""

from __future__ import annotations

from typing import Literal

# The ladder's rungs, cheapest first: no model, a remembered fix, the model on a
# block, the model on the whole file.
RungName = Literal["deterministic", "memory", "block", "whole"]
# What `rung` says on an attempt: a ladder rung, or a person's `mechanic restore`.
AttemptRung = Literal["deterministic", "memory", "block", "whole", "restore"]
# How an attempt ended: written; written then put back (its tests failed); judged
# and refused; not tried (or not sent); kept for a person's review.
Outcome = Literal["applied", "reverted", "rejected", "skipped", "pending"]
# How a person took a fix back (a refusal's `how`).
Refusal = Literal["reverted", "rejected"]
