"""End to end: a user's tree, a model (the stand-in or the embedded one), and the commands."""
