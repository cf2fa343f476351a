"""Tests for nbcluster.util.jsoncopy: a deep copy of JSON-shaped data."""

from __future__ import annotations

from collections import OrderedDict
from enum import Enum

from nbcluster.util.jsoncopy import deep_copy


class _Color(str, Enum):
    RED = "red"


def test_copy_is_equal_and_shares_no_container() -> None:
    value = {"a": [1, {"b": [2.5, None, True, "x"]}], "c": {"d": {}}, "e": []}
    copied = deep_copy(value)
    assert copied == value
    assert copied is not value
    assert copied["a"] is not value["a"] and copied["a"][1] is not value["a"][1]
    assert copied["a"][1]["b"] is not value["a"][1]["b"]
    assert copied["c"]["d"] is not value["c"]["d"] and copied["e"] is not value["e"]
    copied["a"][1]["b"].append(3)
    assert value["a"][1]["b"] == [2.5, None, True, "x"]


def test_subclasses_become_plain_containers_and_other_values_are_shared() -> None:
    marker = object()
    value = OrderedDict(a=[OrderedDict(b=1)], t=(1, [2]), o=marker, s=_Color.RED)
    copied = deep_copy(value)
    assert type(copied) is dict and type(copied["a"][0]) is dict
    assert copied == {"a": [{"b": 1}], "t": (1, [2]), "o": marker, "s": _Color.RED}
    assert copied["t"] is value["t"]  # not JSON: shared, as before
    assert copied["o"] is marker and copied["s"] is _Color.RED


def test_scalars_and_top_level_lists() -> None:
    assert deep_copy(3) == 3 and deep_copy("x") == "x" and deep_copy(None) is None
    inner = {"k": "v"}
    copied = deep_copy([inner, [inner]])
    assert copied == [{"k": "v"}, [{"k": "v"}]]
    assert copied[0] is not inner and copied[1][0] is not inner
