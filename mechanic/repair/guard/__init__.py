"""The scope-and-meaning guard: a candidate fix may change only what is broken."""
