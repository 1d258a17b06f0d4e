"""The only code that talks to a database: the local SQLite store of attempts,
probe results, cooldowns and review."""
