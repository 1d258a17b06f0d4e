"""Tests of mechanic/daemon: the daemon, the watcher, the service and recovery."""
