"""Typed params sections: a dataclass per section, built from a plain dict with strict checking.

`parse(Cls, data, "h36m")` rejects unknown keys, missing keys and wrong types with a `ParamsError` that names the
dotted param (`h36m.splits.inputs`), what was found and what was expected.
"""

import dataclasses
import types
import typing
from typing import Any, TypeVar

from pipeline.errors import ParamsError

T = TypeVar("T")


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value: Any, tp, where: str):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return parse(tp, value, where)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, where)
            except ParamsError:
                pass
        raise ParamsError(f"param {where}: found {value!r}, expected {' or '.join(_type_name(a) for a in args)}")
    if typing.get_origin(tp) is typing.Literal:
        if value not in args:
            raise ParamsError(f"param {where}: found {value!r}, expected one of {', '.join(map(repr, args))}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ParamsError(f"param {where}: found {value!r}, expected a list")
        return [_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is tuple:
        if not isinstance(value, list | tuple) or len(value) != len(args):
            raise ParamsError(f"param {where}: found {value!r}, expected a list of {len(args)} values")
        return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True)))
    if origin is dict:
        if not isinstance(value, dict):
            raise ParamsError(f"param {where}: found {value!r}, expected a mapping")
        return {_convert(k, args[0], where): _convert(v, args[1], f"{where}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamsError(f"param {where}: found {value!r}, expected a number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"param {where}: found {value!r}, expected an integer")
        return value
    if tp is str:
        # YAML reads 0001 as the integer 1; world and subject names are strings, so ask for quotes.
        if not isinstance(value, str):
            raise ParamsError(f"param {where}: found {value!r}, expected a string (quote it in params.yaml)")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"param {where}: found {value!r}, expected true or false")
        return value
    raise TypeError(f"unsupported params type {tp!r} at {where}")


def parse(cls: type[T], data: Any, where: str) -> T:
    """Build dataclass `cls` from mapping `data`; `where` is the dotted name of the section in params.yaml."""
    if not isinstance(data, dict):
        raise ParamsError(f"param {where}: found {data!r}, expected a mapping")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ParamsError(
            f"param {where}.{unknown[0]}: unknown key, expected one of {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, field in fields.items():
        if name in data:
            values[name] = _convert(data[name], hints[name], f"{where}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ParamsError(f"param {where}.{name}: missing, expected a {_type_name(hints[name])}")
    obj = cls(**values)
    check = getattr(obj, "check", None)
    if check is not None:
        check(where)
    return obj
