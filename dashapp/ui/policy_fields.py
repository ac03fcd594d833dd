"""The simulator page's policy-parameter fields, derived from the parameters each policy declares
(engine/policies/params.py): which field a parameter fills, its label, step and bounds, and which policy shows it.

The four fields the page had before the registry keep their ids (service-level, policy-level, policy-s,
policy-q), shared by the policies whose parameters play the same part; any other parameter gets a field of its
own, `param-<name>`.
"""
from __future__ import annotations

from engine.policies.base import all_params, policy_names, policy_params

# engine parameter -> page control key of the shared fields
SHARED = {"service_level": "service_level", "base_stock_level": "policy_level", "S": "policy_level",
          "s": "policy_s", "r": "policy_s", "Q": "policy_q"}
# page control key -> (label, step, bounds) of the shared fields
SHARED_FIELDS = {
    "service_level": ("Service-level target (blank: z from costs)", 0.001, (0.5, 0.9999)),
    "policy_level": ("Level S (base-stock, s-S)", 1, (0.0, 1e9)),
    "policy_s": ("Reorder point s / r", 1, (0.0, 1e9)),
    "policy_q": ("Order quantity Q (r-Q)", 1, (0.0, 1e9)),
}


def page_key(param: str) -> str:
    """The controls-dict key of a policy parameter's field."""
    return SHARED.get(param, f"param_{param}")


def field_specs() -> dict[str, tuple[str, float, tuple[float, float]]]:
    """Every policy field: control key -> (label, step, bounds), shared fields first."""
    out = dict(SHARED_FIELDS)
    for p in all_params().values():
        if p.name not in SHARED:
            out[page_key(p.name)] = (p.label or p.name, 0.01, p.bounds)
    return out


def field_map(policy: str) -> dict[str, str]:
    """control key -> engine parameter for the fields `policy` shows ({} for an unknown policy)."""
    if policy not in policy_names():
        return {}
    return {page_key(p.name): p.name for p in policy_params(policy)}
