"""Layer 2's eyes: which files are watched (discovery), which are broken (scan and
the per-language checkers), static analysis, and runtime errors read from logs."""
