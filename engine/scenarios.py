"""Scenario comparison on common random numbers.

A scenario is a name plus the simulate command's long options with dashes as underscores
(``{"name": "LT14", "lead_time": 14, "policy": "order-up-to"}``). A scenario *set* is the list of scenarios plus
the run settings (replications, days, seed, data). Every scenario of a run sees the same demand paths (the batch
engine derives every random stream from ``SeedSequence([seed, replication, stream])``), so differences between
scenarios are paired per replication and their confidence intervals are much narrower than of independent runs.

Also here: the canonical form of a scenario set, its hash (the result-cache key) and its URL token (the
shareable link), all pure and JSON-safe.
"""
from __future__ import annotations

import base64
import hashlib
import json
import zlib

MAX_SCENARIOS = 8
MAX_TOKEN_CHARS = 8000  # a URL token longer than this is refused before it is decoded
MAX_REPLICATIONS = 2000
MAX_DAYS = 3650


class ScenarioError(ValueError):
    """A scenario set that cannot be run; ``str()`` names the scenario and the field."""


def canonical_set(scenarios: list[dict], *, replications: int, days: int | None, seed: int,
                  baseline: int = 0) -> dict:
    """The scenario set as one JSON-safe dict with stable key order, numbers normalised (1 == 1.0)."""
    if not isinstance(scenarios, list) or not scenarios:
        raise ScenarioError("the scenario set is empty: define at least one scenario")
    if len(scenarios) > MAX_SCENARIOS:
        raise ScenarioError(f"{len(scenarios)} scenarios: at most {MAX_SCENARIOS} can be compared at once")
    names = []
    clean = []
    for i, sc in enumerate(scenarios, 1):
        if not isinstance(sc, dict):
            raise ScenarioError(f"scenario {i}: expected an object with a name and options, got {type(sc).__name__}")
        name = str(sc.get("name") or "").strip()
        if not name:
            raise ScenarioError(f"scenario {i}: the name is missing")
        if len(name) > 60:
            raise ScenarioError(f"scenario {i}: name {name[:20]!r}... is longer than 60 characters")
        if name in names:
            raise ScenarioError(f"scenario {i}: the name {name!r} is used twice")
        names.append(name)
        opts = {}
        for key, value in sc.items():
            if key == "name" or value is None or value == "":
                continue
            key = str(key).replace("-", "_")
            if isinstance(value, float) and value.is_integer() and key not in _FLOAT_KEYS:
                value = int(value)
            opts[key] = value
        clean.append({"name": name, **dict(sorted(opts.items()))})
    replications = _int_in("replications", replications, 1, MAX_REPLICATIONS)
    days = None if days in (None, "") else _int_in("days", days, 1, MAX_DAYS)
    seed = _int_in("seed", seed, 0, 2**32 - 1)
    baseline = _int_in("baseline", baseline, 0, len(clean) - 1)
    return {"version": 1, "scenarios": clean, "replications": replications, "days": days, "seed": seed,
            "baseline": baseline}


_FLOAT_KEYS = {"holding_rate", "unit_cost", "unit_price", "stockout_cost", "noise", "service_level", "z"}


def _int_in(field: str, value, lo: int, hi: int) -> int:
    try:
        v = int(value)
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
    except (TypeError, ValueError):
        raise ScenarioError(f"{field} must be a whole number, got {value!r}") from None
    if not lo <= v <= hi:
        raise ScenarioError(f"{field} must be between {lo} and {hi}, got {v}")
    return v


def set_hash(scenario_set: dict, extra: dict | None = None) -> str:
    """SHA-256 of the canonical JSON of the set (plus anything else the result depends on, e.g. the data key)."""
    payload = {"set": scenario_set, "extra": extra or {}}
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def encode_set(scenario_set: dict) -> str:
    """URL-safe token (zlib + base64url, no padding) carrying the whole scenario set: the shareable link."""
    blob = json.dumps(scenario_set, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
    return base64.urlsafe_b64encode(zlib.compress(blob, 9)).decode().rstrip("=")


def decode_set(token: str) -> dict:
    """Inverse of ``encode_set``; any damaged or hostile token becomes a ``ScenarioError`` with a message."""
    if not isinstance(token, str) or not token:
        raise ScenarioError("the link carries no scenario set")
    if len(token) > MAX_TOKEN_CHARS:
        raise ScenarioError(f"the link's scenario set is too long ({len(token)} characters)")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        d = zlib.decompressobj()
        blob = d.decompress(raw, 200_000)
        if d.unconsumed_tail:
            raise ScenarioError("the link's scenario set is too large")
        data = json.loads(blob)
    except ScenarioError:
        raise
    except Exception:
        raise ScenarioError("the link's scenario set is damaged (cannot be decoded); ask for a fresh link") from None
    if not isinstance(data, dict) or "scenarios" not in data:
        raise ScenarioError("the link's scenario set is damaged (no scenarios in it)")
    return canonical_set(data["scenarios"], replications=data.get("replications", 100), days=data.get("days"),
                         seed=data.get("seed", 0), baseline=data.get("baseline", 0))
