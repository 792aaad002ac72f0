"""Frozen-dataclass configs to and from JSON-ready dicts, with field-named errors."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from rec_core.errors import ConfigError

__all__ = [
    "MAX_SEED",
    "check_number",
    "coerce_value",
    "config_from_dict",
    "config_to_dict",
    "field_types",
    "sub_table",
]

T = TypeVar("T")
# The largest seed: run tables store seeds as int64 (pandas), and torch generators take them too.
MAX_SEED = 2**63 - 1


def sub_table(record: Any, key: str) -> dict[str, Any]:
    """`record[key]` when it is a table (a dict), else {}: a section of a config or status read
    from JSON, where a missing or malformed section must not stop the reader."""
    value = record.get(key) if isinstance(record, dict) else None
    return value if isinstance(value, dict) else {}


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (possibly nested) frozen dataclass; tuples become lists."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            v = config_to_dict(v)
        elif isinstance(v, tuple):
            v = list(v)
        out[f.name] = v
    return out


def field_types(cls: type) -> dict[str, Any]:
    """Resolved type hints of a dataclass's fields (string annotations evaluated)."""
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _is_optional(tp: Any) -> tuple[bool, Any]:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(get_args(tp)) == 2:
            return True, args[0]
    return False, tp


def coerce_value(name: str, tp: Any, value: Any) -> Any:
    """Convert `value` (from JSON, TOML or a command line string) to field type `tp`.

    Raises ConfigError naming `name` and the expected type when it cannot.
    """
    optional, inner = _is_optional(tp)
    if value is None or (optional and isinstance(value, str) and value.lower() in ("none", "null", "")):
        if optional:
            return None
        raise ConfigError(name, f"a value is required ({_type_name(inner)})")
    origin = get_origin(inner)
    try:
        if inner is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
                return True
            if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if inner is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if inner is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if inner is str:
            if not isinstance(value, (str, int, float)):
                raise ValueError
            return str(value)
        if origin is typing.Literal:
            allowed = get_args(inner)
            if value not in allowed:
                raise ConfigError(name, f"allowed: {', '.join(map(str, allowed))}; got {value!r}")
            return value
        if origin is tuple:
            args = get_args(inner)
            items = value.split(",") if isinstance(value, str) else list(value)
            elem = args[0] if args else str
            return tuple(coerce_value(name, elem, x.strip() if isinstance(x, str) else x) for x in items)
    except ConfigError:
        raise
    except (TypeError, ValueError):
        raise ConfigError(name, f"expected {_type_name(inner)}, got {value!r}") from None
    return value


def _type_name(tp: Any) -> str:
    if get_origin(tp) is typing.Literal:
        return "one of " + ", ".join(map(str, get_args(tp)))
    if get_origin(tp) is tuple:
        return "a comma-separated list"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(tp, str(tp))


def config_from_dict(cls: type[T], data: dict[str, Any], prefix: str = "") -> T:
    """Rebuild dataclass `cls` from `data`; unknown keys are errors that list the allowed ones."""
    if not isinstance(data, dict):
        raise ConfigError(prefix.rstrip(".") or cls.__name__, "expected a table of fields")
    types_ = field_types(cls)
    unknown = sorted(set(data) - set(types_))
    if unknown:
        raise ConfigError(prefix + unknown[0], f"unknown field; allowed: {', '.join(sorted(types_))}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        tp = types_[name]
        _, inner = _is_optional(tp)
        if dataclasses.is_dataclass(inner) and isinstance(inner, type):
            kwargs[name] = config_from_dict(inner, value, prefix + name + ".")
        else:
            kwargs[name] = coerce_value(prefix + name, tp, value)
    return cls(**kwargs)


def check_number(name: str, value: float, *, minimum: float = 0.0, strict: bool = False) -> None:
    """ConfigError naming `name` unless `value` is a finite number >= `minimum` (> with
    `strict`). NaN and infinity pass a plain `value < 0` test, and then surface much later
    as a diverged loss with the wrong advice ("lower the learning rate")."""
    import math

    if math.isfinite(value) and (value > minimum if strict else value >= minimum):
        return
    bound = f"{'>' if strict else '>='} {minimum:g}"
    raise ConfigError(name, f"must be a finite number {bound}, got {value}")
