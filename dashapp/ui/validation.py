"""Control values from the simulator page (or a forged request) checked before they reach the engine.

The page offers these bounds; the server enforces them again, so a request that skips the page's own checks is
refused with a message naming the field instead of reaching the engine unchecked.
"""
from __future__ import annotations

import math
import re

from engine.simulation.simulator import LIMITS

# Bounds the page offers and the server enforces. The lead time's are the engine's own (SimConfig's LIMITS), the
# one range every page offers: /portfolio and /scenarios check theirs against the same table.
BOUNDS = {
    "horizon": (1, 730),
    "lead_time": tuple(LIMITS["lead_time"][:2]),
    "holding_rate": (0.0, 5.0),
    "noise": (0.0, 2.0),
    "speed": (0.05, 5.0),
    "seed": (0, 2**32 - 1),
    "unit_cost": (0.0, 1e7),
    "unit_price": (0.0, 1e7),
    "stockout_cost": (0.0, 1e7),
    "initial_inventory": (0.0, 1e9),
    "moq": (0.0, 1e9),
    "pack_size": (1, 1e6),
    "order_cost": (0.0, 1e7),
}
DEMAND_MODES = {"replay": "Replay the data", "synthetic": "Synthetic (generator)",
                "forecast-noise": "Forecast + noise (original app)"}
DEFAULT_CONTROLS = {
    "data_source": "sample", "series": None, "forecaster": "ma7", "policy": "order-up-to",
    "demand_mode": "replay", "horizon": 90, "lead_time": 7, "holding_rate": 0.25, "noise": 0.1,
    "speed": 0.3, "seed": 42, "unit_cost": None, "unit_price": None, "stockout_cost": None,
    "backorders": False, "initial_inventory": None, "service_level": None,
    "policy_level": None, "policy_s": None, "policy_q": None,
    "moq": None, "pack_size": None, "order_days": [], "order_cost": None,
}
INTEGER_FIELDS = ("horizon", "lead_time", "seed", "pack_size")
_REAL = ("holding_rate", "noise", "speed")
OPTIONAL_FIELDS = ("unit_cost", "unit_price", "stockout_cost", "initial_inventory", "moq", "pack_size", "order_cost")
# The supplier's rules (engine.policies.order_rules): blank MOQ / pack / K = none; no or all order days = every day.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Labels of fields whose key does not read as their name.
FIELD_LABELS = {"moq": "minimum order quantity", "pack_size": "pack size", "order_cost": "fixed cost per order",
                "order_days": "order days"}
# Fractions a planner may type as a percentage: 95 is read as 0.95.
PERCENT_FIELDS = ("service_level",)
# The page's names of the engine's CLI flags, for engine messages that name a flag.
PAGE_FIELD_NAMES = {"--days": "“Horizon”", "--date": "“Order date”",
                    "--stockout-cost": "“Stockout cost per unit”", "--unit-cost": "“Unit cost”",
                    "--unit-price": "“Unit price”", "--lead-time": "“Lead time”", "--horizon": "“Horizon”",
                    "--holding-rate": "“Annual holding rate”", "--initial-inventory": "“Initial inventory”",
                    "--service-level": "“Service-level target”", "--moq": "“Minimum order quantity”",
                    "--pack-size": "“Pack size”", "--order-cost": "“Fixed cost per order K”",
                    "--order-days": "“Order days”"}


class InputError(ValueError):
    """A control value the server refuses; str() names the field and the value."""


def number(field: str, raw, integer: bool = False, optional: bool = False):
    """`raw` as a number within BOUNDS[field] (None for a blank optional field)."""
    label = FIELD_LABELS.get(field, field.replace("_", " "))
    if raw is None or raw == "":
        if optional:
            return None
        lo, hi = BOUNDS[field]
        kind = "a whole number" if integer else "a number"
        raise InputError(f"{label}: a value is required ({kind} from {lo:g} to {hi:g})")
    return number_in(label, raw, BOUNDS[field], integer)


def optional_number_in(field: str, raw, bounds: tuple):
    """None for a blank field, else a number within bounds."""
    return None if raw is None or raw == "" else number_in(field.replace("_", " "), raw, bounds)


def number_in(label: str, raw, bounds: tuple, integer: bool = False):
    """A number within bounds (InputError naming the label otherwise)."""
    if raw is None or raw == "" or isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise InputError(f"{label}: {str(raw)[:40]!r} is not a number")
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{label}: {str(raw)[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{label}: {raw!r} is not a finite number")
    lo, hi = bounds
    if not lo <= value <= hi:
        raise InputError(f"{label}: {raw!r} is out of range ({lo:g} to {hi:g})")
    if integer and value != int(value):
        raise InputError(f"{label}: {raw!r} must be a whole number ({lo:g} to {hi:g})")
    return int(value) if integer else value


def fraction_or_percent(field: str, raw, bounds: tuple):
    """A fraction field (service level): blank is None, 95 (a percentage, above 1 and up to 100) is 0.95."""
    if raw is None or raw == "":
        return None
    value = number_in(field.replace("_", " "), raw, (-math.inf, math.inf))
    if 1 < value <= 100:
        value = round(value / 100, 12)  # 99.9 / 100 is 0.9990000000000001 in binary: the typed digits count
    lo, hi = bounds
    if not lo <= value <= hi:
        raise InputError(f"{field.replace('_', ' ')}: {raw!r} is out of range ({lo:g} to {hi:g}, "
                         f"or {100 * lo:g} to {100 * hi:g} as a percentage)")
    return value


TARGET_FILL_RATE_BOUNDS = (0.5, 0.999)
# The field's label on both pages. Its input carries no HTML min/max/step: the browser would send a value outside
# them (95, typed as a percentage) as blank, and the planner would read "a value is required" for what was typed.
TARGET_LABEL = "Target fill rate (0.5–0.999 or 50–99.9 %)"
# The recommendation's objectives as /optimum and /orders offer them (engine.studies.recommendation.OBJECTIVES).
OBJECTIVE_OPTIONS = [{"label": "Least expected cost", "value": "cost"},
                     {"label": "Least stock reaching the fill-rate target", "value": "fill-rate"}]


def objective_choice(raw) -> str:
    """The recommendation's objective as /optimum, /portfolio and /orders read it (one reading, one message): a value
    of OBJECTIVE_OPTIONS; anything else (the browser can send any text) is named with the choices in the page's
    words."""
    values = [o["value"] for o in OBJECTIVE_OPTIONS]
    if isinstance(raw, str) and raw in values:
        return raw
    choices = " or ".join(o["label"].lower() for o in OBJECTIVE_OPTIONS)
    raise InputError(f"objective: choose {choices} (got {str(raw)[:40]!r})")


def target_fill_rate(raw) -> float:
    """The fill-rate target of a recommendation as /optimum and /portfolio read it (one reading for both pages, so the
    same typed value gets the same recommendation or the same message): a fraction in TARGET_FILL_RATE_BOUNDS, or
    the same as a percentage (95 is 0.95); blank is refused."""
    value = fraction_or_percent("target_fill_rate", raw, TARGET_FILL_RATE_BOUNDS)
    if value is None:
        raise InputError("target fill rate: a value is required")
    return value


def page_words(message: str, names: dict | None = None) -> str:
    """An engine message in the page's words: CLI flags become the fields' labels (PAGE_FIELD_NAMES, and a page's
    own `names` for flags only it has a field for), and a price at or below cost is said as such."""
    below = re.search(r"unit price − unit cost = (\S+) − (\S+) = \S+ is not positive", message)
    if below:
        price, cost = below.groups()
        return (f"the unit price ({price}) is not above the unit cost ({cost}), so a lost sale costs nothing: "
                f"enter a {PAGE_FIELD_NAMES['--stockout-cost']} above 0, or a unit price above the unit cost")
    message = message.replace("set --", "enter --").replace(
        "--demand synthetic", f"“Demand mode” {DEMAND_MODES['synthetic']}")
    known = {**PAGE_FIELD_NAMES, **(names or {})}
    # a command the message quotes, "(engine train --global --holdout-days 180)", stays a command
    parts = re.split(r"(\((?:python -m )?engine [^)]*\))", message)
    return "".join(p if i % 2 else re.sub(r"--[a-z][a-z-]*", lambda m: known.get(m.group(0), m.group(0)), p)
                   for i, p in enumerate(parts))


def speed_or_default(raw) -> float:
    """The speed box's value, or the default while it holds something unusable (the page marks it)."""
    try:
        return number("speed", raw)
    except InputError:
        return DEFAULT_CONTROLS["speed"]


def order_days(raw) -> list[str]:
    """The checked weekdays in week order; [] (every day) when none or all seven are checked."""
    if raw is None or raw == "":
        return []
    if not isinstance(raw, (list, tuple)) or not all(isinstance(d, str) and d in WEEKDAYS for d in raw):
        raise InputError(f"order days: {str(raw)[:60]!r} is not a set of weekdays (mon … sun)")
    days = [d for d in WEEKDAYS if d in raw]
    return [] if len(days) == 7 else days


def choice(field: str, raw, allowed) -> str:
    if not isinstance(raw, str) or raw not in allowed:
        raise InputError(f"{field.replace('_', ' ')}: {str(raw)[:60]!r} is not one of the offered choices")
    return raw


def clean_controls(raw: dict, forecasters, policies, policy_bounds: dict) -> dict:
    """Every control value checked (InputError with a message otherwise); `forecasters` and `policies` are the
    names the page offers, `policy_bounds` the policy fields' bounds (dashapp.ui.policy_fields)."""
    c = {
        "forecaster": choice("forecaster", raw.get("forecaster"), forecasters),
        "policy": choice("policy", raw.get("policy"), policies),
        "demand_mode": choice("demand_mode", raw.get("demand_mode"), DEMAND_MODES),
        "data_source": choice("data_source", raw.get("data_source") or "sample", {"sample", "upload"}),
    }
    c.update({f: number(f, raw.get(f), integer=True) for f in INTEGER_FIELDS if f not in OPTIONAL_FIELDS})
    c.update({f: number(f, raw.get(f)) for f in _REAL})
    c.update({f: number(f, raw.get(f), integer=f in INTEGER_FIELDS, optional=True) for f in OPTIONAL_FIELDS})
    c["order_days"] = order_days(raw.get("order_days"))
    c.update({f: (fraction_or_percent if f in PERCENT_FIELDS else optional_number_in)(f, raw.get(f), b)
              for f, b in policy_bounds.items()})
    c["backorders"] = bool(raw.get("backorders"))
    series = raw.get("series")
    if series is not None and not isinstance(series, str):
        raise InputError("series: not a series name")
    c["series"] = series
    return c
