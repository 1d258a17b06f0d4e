"""Tests of mechanic/config: config.toml, its keys and its errors."""
