"""The only writer of user files: the transaction (backup, atomic write, validate,
revert), its journal, the stop gate, review mode, git commits and text encoding."""
