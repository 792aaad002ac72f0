"""A tuning search space: config field -> range or choices, read from a small TOML/JSON file.

    [lr]                      # a field of any section (train.lr here); "train.lr" also works
    low = 1e-4
    high = 1e-2
    log = true
    [embed_dim]               # an integer field: integer bounds, optional step
    low = 16
    high = 128
    step = 16
    [use_attention]           # anything else: a list of choices
    choices = [true, false]

A name is a field of the run's config sections (data, split, model, train, eval), spelt as
the field or as `train`'s flag without `--` (embed-dim); a name two sections share is given
as section.field. Every bound and choice is checked by building the run's config with it
before anything runs, so a bad space is refused with the field named (ConfigError).
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from rec_core.configs import coerce_value, field_types
from rec_core.errors import ConfigError

if typing.TYPE_CHECKING:
    import optuna

    from rec_core.configs.run import RunConfig

__all__ = ["Param", "apply_params", "parse_space", "read_space"]

# Fields a study never varies: the seeds are the objective's own (--seeds), and a dataset or
# model of another name is another study.
_FIXED = {("split", "seed"), ("train", "seed"), ("data", "name"), ("model", "name")}
_SPEC_KEYS = {"low", "high", "log", "step", "choices"}
Choice = bool | int | float | str | None


@dataclass(frozen=True)
class Param:
    """One searched field: an int or float range (`low`..`high`, `log` scale, `step`) or a
    categorical list of `choices`."""

    name: str  # as the space file names it; the trial's parameter name
    section: str  # data | split | model | train | eval
    field: str
    kind: Literal["int", "float", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Choice, ...] = ()

    def suggest(self, trial: optuna.Trial) -> Any:
        """This parameter's value for `trial` (Optuna's suggest_* of its kind)."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.choices))
        assert self.low is not None and self.high is not None  # parse_space sets both for ranges
        if self.kind == "int":
            step = int(self.step) if self.step is not None else 1
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=step, log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)

    def to_dict(self) -> dict[str, Any]:
        """The spec as the file gave it (resolved to section.field), for the study's record."""
        spec: dict[str, Any] = {"field": f"{self.section}.{self.field}"}
        if self.kind == "categorical":
            spec["choices"] = list(self.choices)
        else:
            spec.update(low=self.low, high=self.high, log=self.log)
            if self.step is not None:
                spec["step"] = self.step
        return spec


def read_space(path: str | Path) -> dict[str, Any]:
    """The raw table of a space file (.toml, else JSON); ConfigError("space", ...) when unreadable."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError("space", f"file not found: {path}")
    try:
        text = p.read_text(encoding="utf-8")
        raw = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("space", f"cannot read {path}: {exc}") from None
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "TOML" if p.suffix.lower() == ".toml" else "JSON"
        raise ConfigError("space", f"{path} is not valid {kind}: {exc}") from None
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("space", f"{path} must map at least one parameter to a range or choices")
    return raw


def _sections(base: RunConfig) -> dict[str, type]:
    """Section -> config class of `base` (the model section: the class of its model)."""
    out: dict[str, type] = {}
    for f in dataclasses.fields(base):
        value = getattr(base, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out[f.name] = type(value)
    return out


def _resolve(name: str, base: RunConfig) -> tuple[str, str, Any]:
    """(section, field, type) of a space name; ConfigError naming it when it is no such field."""
    sections = _sections(base)
    key = name.replace("-", "_")
    section_given, dot, field_name = key.rpartition(".")
    if dot and section_given not in sections:
        raise ConfigError(name, f"unknown section {section_given!r}; allowed: {', '.join(sections)}")
    owners = [
        (section, field_name, types_[field_name])
        for section, cls in sections.items()
        if (not dot or section == section_given)
        for types_ in [field_types(cls)]
        if field_name in types_ and (section, field_name) not in _FIXED
    ]
    if len(owners) == 1:
        return owners[0]
    if owners:
        spelled = ", ".join(f"{s}.{f}" for s, f, _ in owners)
        raise ConfigError(name, f"ambiguous: a field of several sections; name one of {spelled}")
    model = getattr(base.model, "name", "?")
    tunable = lambda s: [f for f in field_types(sections[s]) if (s, f) not in _FIXED]  # noqa: E731
    raise ConfigError(
        name,
        f"unknown parameter: not a config field of model {model!r} or of the data, split, train or eval "
        f"sections; model {model!r} has {', '.join(tunable('model'))}; train has {', '.join(tunable('train'))}",
    )


def _inner(tp: Any) -> Any:
    """`int` of `int | None`: the type a value of an optional field has."""
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def _number(name: str, key: str, value: Any, integer: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(name, f"{key} must be a finite number, got {value!r}")
    if integer and not float(value).is_integer():
        raise ConfigError(name, f"{key} must be an integer for an integer field, got {value!r}")
    return float(value)


def _param(name: str, spec: Any, base: RunConfig) -> Param:
    section, field_name, tp = _resolve(name, base)
    if not isinstance(spec, dict):
        raise ConfigError(name, "expected a table: {low, high[, log][, step]} or {choices}")
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        raise ConfigError(name, f"unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_SPEC_KEYS))}")
    inner = _inner(tp)
    if "choices" in spec:
        if set(spec) != {"choices"}:
            raise ConfigError(name, "give either choices or low/high, not both")
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise ConfigError(name, "choices must be a non-empty list")
        for c in choices:
            if c is not None and not isinstance(c, (bool, int, float, str)):
                raise ConfigError(name, f"a choice must be a number, string, boolean or null; got {c!r}")
        if len(set(map(repr, choices))) != len(choices):
            raise ConfigError(name, f"choices repeat a value: {choices}")
        return Param(name, section, field_name, "categorical", choices=tuple(choices))
    if "low" not in spec or "high" not in spec:
        raise ConfigError(name, "give low and high (a range) or choices (a list)")
    if inner not in (int, float):
        raise ConfigError(name, f"{section}.{field_name} is not a number: give its values as choices")
    integer = inner is int
    low = _number(name, "low", spec["low"], integer)
    high = _number(name, "high", spec["high"], integer)
    if not low < high:
        raise ConfigError(name, f"low must be below high, got low {spec['low']} and high {spec['high']}")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(name, f"log must be true or false, got {log!r}")
    if log and low <= 0:
        raise ConfigError(name, f"a log scale needs low > 0, got {spec['low']}")
    step = _number(name, "step", spec["step"], integer) if "step" in spec else None
    if step is not None and (step <= 0 or log):
        raise ConfigError(name, "step must be > 0, and a log scale takes no step")
    return Param(name, section, field_name, "int" if integer else "float", low, high, log, step)


def parse_space(raw: Mapping[str, Any], base: RunConfig) -> tuple[Param, ...]:
    """The parameters of a raw space table, each checked against `base`'s config: its name is a
    field, its spec is a range or choices, and the config built at each bound and choice is
    valid. ConfigError naming the parameter otherwise."""
    params = tuple(_param(str(name), spec, base) for name, spec in raw.items())
    fields = [(p.section, p.field) for p in params]
    for i, f in enumerate(fields):
        if f in fields[:i]:
            raise ConfigError(params[i].name, f"{f[0]}.{f[1]} is searched twice")
    for p in params:
        values: Sequence[Any] = p.choices if p.kind == "categorical" else (p.low, p.high)
        for value in values:
            if p.kind == "int":
                value = int(value)
            try:
                apply_params(base, {p: value})
            except ConfigError as exc:
                raise ConfigError(p.name, f"{value!r} is not a value {p.section}.{p.field} can take ({exc})") from None
    return params


def apply_params(base: RunConfig, values: Mapping[Param, Any], seed: int | None = None, label: str = "") -> RunConfig:
    """`base` with each parameter's field set to its value (and the seed and label given)."""
    from rec_core.configs.run import RunConfig

    d = base.to_dict()
    for p, value in values.items():
        tp = field_types(_sections(base)[p.section])[p.field]
        d[p.section][p.field] = coerce_value(f"{p.section}.{p.field}", tp, value)
    if seed is not None:
        d["seed"] = seed
    if label:
        d["label"] = label
    return RunConfig.from_dict(d)
