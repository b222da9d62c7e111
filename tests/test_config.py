from dataclasses import dataclass, field
from typing import Literal

import pytest

from pipeline.config import parse
from pipeline.errors import ParamsError


@dataclass
class Inner:
    names: list[str]
    size: tuple[int, int] = (4, 2)


@dataclass
class Section:
    root: str
    inner: Inner
    layout: Literal["a", "b"] = "a"
    rate: float = 0.5
    sets: dict[str, dict[str, int]] = field(default_factory=dict)


def test_parses_nested_values():
    cfg = parse(Section, {"root": "x", "inner": {"names": ["S1"], "size": [8, 3]}, "rate": 1,
                          "sets": {"m": {"Male": 1}}}, "demo")
    assert cfg.inner.size == (8, 3) and cfg.rate == 1.0 and cfg.sets == {"m": {"Male": 1}}


@pytest.mark.parametrize("data, message", [
    ({"root": "x", "inner": {"names": []}, "strid": 2}, r"param demo.strid: unknown key, expected one of"),
    ({"root": "x", "inner": {"names": [], "colour": 1}}, r"param demo.inner.colour: unknown key"),
    ({"inner": {"names": []}}, r"param demo.root: missing"),
    ({"root": "x", "inner": {"names": [1]}}, r"param demo.inner.names\[0\]: found 1, expected a string"),
    ({"root": "x", "inner": {"names": []}, "layout": "c"}, r"param demo.layout: found 'c', expected one of 'a', 'b'"),
    ({"root": "x", "inner": {"names": [], "size": [1]}}, r"param demo.inner.size: found \[1\], expected a list of 2"),
    ({"root": "x", "inner": {"names": []}, "rate": "fast"}, r"param demo.rate: found 'fast', expected a number"),
])
def test_errors_name_the_param(data, message):
    with pytest.raises(ParamsError, match=message):
        parse(Section, data, "demo")
