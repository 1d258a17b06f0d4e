"""Repairs that need no model: `deterministic.search` (the zero-token rung) and
`rung.try_deterministic`, which runs it on one broken file through the transaction."""
