"""Tests of mechanic/repair: the ladder, its rungs, the guard, prompts and answers."""
