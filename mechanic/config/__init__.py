"""Configuration: the key schema, the settings it builds, loading and validating
config.toml, and the one careful editor of it."""
