"""The exact optimum's request and solve for /optimum (no Dash): a request checked field by field (the state-space
size with it, so a too-large instance is refused before a job starts) and the solve behind the background job."""
from __future__ import annotations

import hashlib
import json
import time

from engine.errors import ConfigError
from engine.json_safe import json_safe
from engine.studies import scenarios as sc

__all__ = ["DIST_CHOICES", "MAX_HEATMAP_LEAD", "demand_dist", "exact_record", "request_from_fields",
           "request_key", "uploaded_counts"]

MAX_HEATMAP_LEAD = 2
DIST_CHOICES = [{"label": "Poisson (mean)", "value": "poisson"},
                {"label": "Negative binomial (mean, variance)", "value": "negbin"},
                {"label": "Fitted from a series of the data (empirical)", "value": "empirical"}]


def uploaded_counts(raw: bytes, name: str, max_bytes: int) -> dict:
    """{"name": file name, "series": {key: counts}} of an uploaded demand file: counts[d] = number of days with
    demand d (rounded to whole units) — all the empirical distribution needs, small enough for the browser.
    DataError (from engine.data) for a file the engine cannot read; series with negative or no positive demand
    are left out."""
    import numpy as np

    from engine.data.dataset import load_csv

    ds = load_csv(raw, name=name, max_bytes=max_bytes)
    out = {}
    for key, s in ds.series.items():
        v = np.asarray(s.demand, dtype=np.float64)
        v = v[np.isfinite(v)]
        if v.size == 0 or (v < 0).any() or not (v > 0).any():
            continue
        out[str(key)] = np.bincount(np.rint(v).astype(np.int64)).tolist()
    return {"name": name, "series": out}


def request_from_fields(dist, mean, var, series, lead_time, h, p, sales, order_cost=0, uploaded=None) -> dict:
    """The checked request; ConfigError (one sentence naming the field) when a field is missing or out of range.
    A lead time beyond the solver's reach is not an error: the record says "not certified" (exact_report)."""
    from engine.exact.report import MAX_LEAD

    def number(name, v):
        if v is None or v == "":
            raise ConfigError(f"{name} is missing", field=name, value=v)
        return float(v)

    if dist not in {c["value"] for c in DIST_CHOICES}:
        raise ConfigError(f"demand distribution must be poisson, negbin or empirical (got {dist!r})",
                          field="demand_dist", value=dist)
    lead = number("lead time", lead_time)
    if lead != int(lead) or not 0 <= lead <= MAX_LEAD:
        raise ConfigError(f"lead time must be a whole number of days in [0, {MAX_LEAD}] (got {lead_time!r})",
                          field="lead_time", value=lead_time)
    req = {"dist": dist, "lead_time": int(lead), "h": number("h", h), "p": number("p", p),
           "backorders": sales == "backorders"}
    K = 0.0 if order_cost in (None, "") else float(order_cost)
    if not K >= 0:
        raise ConfigError(f"order cost K must be ≥ 0 (got {order_cost!r})", field="order_cost", value=order_cost)
    if K > 0:
        req["order_cost"] = K
    if dist in ("poisson", "negbin"):
        req["mean"] = number("mean", mean)
    if dist == "negbin":
        req["var"] = number("variance", var)
    if dist == "empirical":
        if not series:
            raise ConfigError("choose a series for the empirical distribution", field="series", value=series)
        req["series"] = str(series)
        if uploaded and str(series) in (uploaded.get("series") or {}):
            req["counts"] = [int(c) for c in uploaded["series"][str(series)]]
            req["source"] = str(uploaded.get("name") or "upload")
    demand_dist(req)
    if not req["backorders"]:
        for name in ("h", "p"):
            if not req[name] > 0:
                raise ConfigError(f"{name} must be positive (got {req[name]:g})", field=name, value=req[name])
    return req


def demand_dist(req: dict):
    from engine.exact.distributions import empirical, from_counts, negative_binomial, poisson

    if req.get("counts") is not None:
        return from_counts(req["counts"], req["series"])
    if req["dist"] == "poisson":
        return poisson(req["mean"])
    if req["dist"] == "negbin":
        return negative_binomial(req["mean"], req["var"])
    return empirical(str(sc.DEFAULT_DATA), req["series"])


def request_key(req: dict) -> str:
    return hashlib.sha256(json.dumps(req, sort_keys=True).encode()).hexdigest()[:32]


def exact_record(req: dict, progress=None) -> dict:
    """The exact report of a checked request, with the optimal-policy records for L ≤ 2 (lost sales)."""
    from engine.exact.report import exact_report

    t0 = time.perf_counter()
    dist = demand_dist(req)
    if progress:
        progress(0, 2)
    rep = exact_report(dist, req["lead_time"], req["h"], req["p"], req["backorders"],
                       with_actions=req["lead_time"] <= MAX_HEATMAP_LEAD, order_cost=req.get("order_cost", 0.0))
    if req.get("source"):
        rep["source"] = req["source"]
    if progress:
        progress(1, 2)
    rep["elapsed_s"] = time.perf_counter() - t0
    return json_safe(rep)
