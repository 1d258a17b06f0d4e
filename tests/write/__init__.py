"""Tests of mechanic/write: the only writer of user files, its backups, review and crash safety."""
