"""Tests of mechanic/detect: discovery, scans, checkers and error logs."""
