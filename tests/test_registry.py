"""One registry pattern for probe types, checkers and model backends."""

from __future__ import annotations

import pytest

import probes
from mechanic.config.keys import BACKENDS as CONFIG_BACKENDS
from mechanic.detect.checkers import CHECKERS, CheckerSet
from mechanic.registry import Registry, UnknownName
from mechanic.repair.backends import BACKENDS


def test_an_entry_registered_by_name_is_got_by_that_name():
    registry: Registry[int] = Registry("number")
    registry.register("one")(1)
    assert registry.get("one") == 1
    assert "one" in registry and list(registry) == ["one"] and len(registry) == 1


def test_an_unknown_name_is_answered_with_the_known_ones():
    registry: Registry[int] = Registry("number")
    registry.register("two")(2)
    registry.register("one")(1)
    with pytest.raises(UnknownName) as caught:
        registry.get("three")
    assert str(caught.value) == "unknown number 'three' (known: one, two)"
    assert caught.value.known == ("one", "two")


def test_a_name_registered_twice_is_refused():
    registry: Registry[int] = Registry("number")
    registry.register("one")(1)
    with pytest.raises(ValueError, match="number 'one' is registered twice"):
        registry.register("one")(11)
    assert registry.get("one") == 1


def test_every_probe_type_is_registered_under_its_own_type():
    assert len(probes.REGISTRY) == 14
    for name in probes.REGISTRY:
        assert probes.REGISTRY.get(name).type == name


def test_every_backend_the_config_accepts_has_a_factory_except_none():
    assert set(BACKENDS.names()) == set(CONFIG_BACKENDS) - {"none"}


def test_a_checker_for_a_language_nobody_registered_names_the_known_ones():
    assert set(CHECKERS.names()) == {"python", "javascript", "shell", "json", "toml"}
    with CheckerSet() as checkers, pytest.raises(UnknownName, match="unknown checker 'cobol'"):
        checkers.get("cobol")
