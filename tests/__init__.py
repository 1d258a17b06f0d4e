"""mechanic's tests: one folder per package of mechanic/, plus support/ for the shared helpers."""
