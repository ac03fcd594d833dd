"""A link that opens the simulator page with some controls set (`/?series=KEY&lead_time=3&policy=base-stock...`,
as the /portfolio grid writes): the query's control values, read once when the page loads.

Only keys of the page's controls are taken, as text or numbers; the page then treats them like typed values (the
server checks them on Start), so a link can never set anything a user could not type.
"""
from __future__ import annotations

from dashapp import ids
from dashapp.ui.policy_fields import field_specs
from dashapp.ui.validation import BOUNDS, WEEKDAYS

TEXT_KEYS = ("data_source", "series", "forecaster", "policy", "demand_mode")
MAX_TEXT = 200


def link_controls(query: dict) -> dict:
    """{controls-dict key: value} of the query parameters that name a control; others are ignored."""
    policy_fields = set(field_specs())
    numeric = set(BOUNDS) | policy_fields
    known = set(ids.CONTROLS.values()) | policy_fields   # the policies' own fields (param_<name>) too
    out = {}
    for key, raw in (query or {}).items():
        if key not in known or not isinstance(raw, str) or len(raw) > MAX_TEXT:
            continue
        if key in TEXT_KEYS:
            out[key] = raw
        elif key == "order_days":  # "mon;thu": the checklist's weekday keys (others dropped; Start checks them)
            out[key] = [d for d in WEEKDAYS if d in raw.lower().replace(",", ";").split(";")]
        elif key in numeric:
            try:
                value = float(raw)
            except ValueError:
                continue
            out[key] = int(value) if value.is_integer() else value
    return out
