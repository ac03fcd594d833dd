"""What each number field of the simulator page accepts, said once for the page (the range beside the field, the
invalid mark while typing) and for the server (dashapp.ui.validation enforces the same bounds).

The fields carry no HTML min/max/step: a browser hands dash an empty value for a number outside them, which the
server could only report as "a value is required" (and an optional field would be silently dropped).
"""
from __future__ import annotations

import json

from dashapp.ui.policy_fields import field_specs
from dashapp.ui.validation import BOUNDS, INTEGER_FIELDS, OPTIONAL_FIELDS, PERCENT_FIELDS

UNITS = {"horizon": "days", "lead_time": "days", "speed": "s per day",
         "holding_rate": "per year, a fraction of the unit cost (0.25 = 25 %)", "moq": "units",
         "pack_size": "units per pack", "order_cost": "per order"}


def bounds_of(key: str) -> tuple[float, float]:
    """The allowed range of a control key (a fixed control or a policy parameter)."""
    return BOUNDS[key] if key in BOUNDS else field_specs()[key][2]


def optional(key: str) -> bool:
    return key in OPTIONAL_FIELDS or key not in BOUNDS  # policy parameters may stay blank


def range_text(key: str) -> str:
    """The sentence shown under a field, e.g. "1 to 730 days, whole number"."""
    lo, hi = bounds_of(key)
    text = f"{_plain(lo)} to {_plain(hi)}"
    if key in UNITS:
        text += f" {UNITS[key]}"
    if key in INTEGER_FIELDS:
        text += ", whole number"
    if key in PERCENT_FIELDS:
        text += f" (or a percentage: 95 means {0.95:g})"
    return text


def _plain(v: float) -> str:
    """A bound as a person writes it: 4,294,967,295 and 10,000,000, not 4.29497e+09."""
    return f"{int(v):,}" if float(v).is_integer() else f"{v:g}"


def problem(key: str, value) -> str | None:
    """Why a typed value is not accepted (None when it is); the clientside check (check_js) does the same."""
    if value is None or value == "":
        return None if optional(key) else "a value is required"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "not a number"
    lo, hi = bounds_of(key)
    if key in PERCENT_FIELDS and 1 < value <= 100:
        value = value / 100
    if not lo <= value <= hi:
        return f"allowed: {range_text(key)}"
    if key in INTEGER_FIELDS and value != int(value):
        return f"a whole number: {range_text(key)}"
    return None


def check_js(key: str) -> str:
    """A clientside callback marking the field invalid while the typed value breaks problem()'s rules."""
    lo, hi = bounds_of(key)
    rule = json.dumps({"lo": lo, "hi": hi, "integer": key in INTEGER_FIELDS, "optional": optional(key),
                       "percent": key in PERCENT_FIELDS})
    return ("function(v) { const r = " + rule + ";"
            " if (v === null || v === undefined || v === '') { return !r.optional; }"
            " if (typeof v !== 'number' || !isFinite(v)) { return true; }"
            " if (r.percent && v > 1 && v <= 100) { v = v / 100; }"
            " if (v < r.lo || v > r.hi) { return true; }"
            " return r.integer && v !== Math.trunc(v); }")
