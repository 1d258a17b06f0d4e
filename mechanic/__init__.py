"""mechanic: finds source files that no longer parse and repairs them safely
with a local model, writing only fixes that pass validation."""

__version__ = "0.1.0"
