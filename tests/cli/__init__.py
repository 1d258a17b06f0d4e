"""Tests of mechanic/cli: the commands as a user runs them."""
