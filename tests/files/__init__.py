"""Tests of mechanic/files: line diffs and locks."""
