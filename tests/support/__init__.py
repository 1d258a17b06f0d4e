"""Helpers the tests share: a user's workspace, the Ollama stand-in, real services, and
the drivers the tests run as subprocesses."""
