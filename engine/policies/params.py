"""What a policy's parameter is, declared once on the policy class: the CLI options, the simulator page's fields,
the scenario table's columns and SimConfig's validation are all read from these declarations.

A policy lists its parameters in `params`: `Param(...)` objects, or plain names (a default spec: a quantity in
[0, 1e12], labelled by its name; a class may narrow the bounds with a `param_bounds = {name: (lo, hi)}` dict).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from engine.errors import ConfigError

DEFAULT_BOUNDS = (0.0, 1e12)


@dataclass(frozen=True)
class Param:
    """One policy parameter. `default` None means the policy derives the value (its docstring says how)."""

    name: str
    label: str = ""
    bounds: tuple[float, float] = DEFAULT_BOUNDS
    default: float | None = None
    help: str = ""
    exclusive: bool = False  # the bounds themselves are refused (a probability strictly inside (0, 1))

    @property
    def flag(self) -> str:
        """The command-line option: --service-level, --S."""
        return "--" + self.name.replace("_", "-")

    def check(self, value) -> None:
        """ConfigError naming the parameter when `value` is not a finite number within the bounds."""
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{self.name} must be a number, got {value!r}", field=self.name, value=value)
        lo, hi = self.bounds
        bad = (value <= lo or value >= hi) if self.exclusive else (value < lo or value > hi)
        if bad:
            raise ConfigError(f"{self.name} = {value!r} is out of range", field=self.name, value=value)


def param_specs(policy_cls) -> tuple[Param, ...]:
    """The class's parameters as Param objects (plain names get the default spec)."""
    bounds = getattr(policy_cls, "param_bounds", {}) or {}
    out = []
    for p in getattr(policy_cls, "params", ()):
        if isinstance(p, Param):
            out.append(p)
        else:
            out.append(Param(str(p), label=str(p), bounds=tuple(bounds.get(p, DEFAULT_BOUNDS))))
    return tuple(out)
