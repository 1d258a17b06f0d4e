"""Repairs that need no model: `deterministic.search` (the zero-token rung) and
`rung.try_zero_token`, which runs it on one broken file through the transaction."""
