"""Tests of mechanic/store: the record of attempts and what happens when storage fails."""
