"""Tests of probes/: Layer 1 probes and the health model."""
