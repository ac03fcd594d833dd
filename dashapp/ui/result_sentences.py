"""The one plain sentence each results page opens with: what to set, what it saves against the current setting,
and how sure we are. No dash; the pages wrap the text.

How sure: a simulated cost curve is usually flat near its minimum, so its argmin is a point picked by noise.
The sentence states the flat region instead — every level whose mean cost lies within the 95 % confidence
half-width of the best level's mean (the "indifference zone" of ranking-and-selection; Kim & Nelson, "Selecting
the best system", Handbooks in OR & MS 13, 2006) — and a difference whose 95 % CI spans 0 is called not
significant.
"""
from __future__ import annotations


def flat_range(levels, mean, ci95) -> tuple[float, float] | None:
    """(low, high) of the contiguous levels around the cheapest whose mean cost is within the cheapest's 95 %
    half-width; None without a curve."""
    pts = sorted((float(x), float(m), float(h or 0.0)) for x, m, h in zip(levels or [], mean or [], ci95 or []))
    if not pts:
        return None
    best = min(range(len(pts)), key=lambda i: pts[i][1])
    limit = pts[best][1] + pts[best][2]
    lo = hi = best
    while lo > 0 and pts[lo - 1][1] <= limit:
        lo -= 1
    while hi < len(pts) - 1 and pts[hi + 1][1] <= limit:
        hi += 1
    return pts[lo][0], pts[hi][0]


def per_day(total: float, days: int | None) -> str:
    """A total cost with its per-day figure: "1,234.50 (13.72 per day)"."""
    return f"{total:,.2f}" + (f" ({total / days:,.2f} per day)" if days else "")


def optimum_sentence(rep: dict) -> str:
    """/optimum: the cheaper of the best base-stock S and the best z, its flat range, and the saving against the
    scenario's order-up-to rule as set (both costed on the same evaluation paths)."""
    days = rep.get("days")
    current = next((p for p in rep.get("policies", []) if p.get("name") == "order-up-to"), None)
    s, z = rep["best_base_stock"], rep["best_z"]
    if s["cost"] <= z["cost"]:
        rng = flat_range(rep.get("curve", {}).get("levels"), rep.get("curve", {}).get("mean"),
                         rep.get("curve", {}).get("ci95"))
        what = f"a constant base-stock level S of about {s['level']:,.0f} units"
        span = f"any S from {rng[0]:,.0f} to {rng[1]:,.0f} units" if rng and rng[0] != rng[1] else None
        cost = s["cost"]
    else:
        zc = rep.get("z_curve", {})
        rng = flat_range(zc.get("z"), zc.get("mean"), zc.get("ci95"))
        what = f"the order-up-to rule with safety factor z ≈ {z['z']:.2f}"
        span = f"any z from {rng[0]:.2f} to {rng[1]:.2f}" if rng and rng[0] != rng[1] else None
        cost = z["cost"]
    text = f"Set {what}: mean cost {per_day(cost, days)} over {days} days"
    if current is not None:
        saving = current["cost"] - cost
        if saving > 0:
            pct = saving / current["cost"] if current["cost"] > 0 else 0.0
            hw = float(current.get("ci95") or 0.0)
            one_path = rep.get("replications") == 1  # a replay of the history: no interval to give
            text += (f", {saving:,.2f} ({pct:.0%}) less than the order-up-to rule as set "
                     + (f"({current['cost']:,.2f} on the one replayed path)" if one_path
                        else f"({current['cost']:,.2f} ± {hw:,.2f})"))
            if one_path:
                text += " — one path, so no confidence interval"
            elif saving <= hw:
                text += " — within that rule's 95 % CI, so not a significant saving: keep your setting"
        else:
            text += f", no cheaper than the order-up-to rule as set ({current['cost']:,.2f})"
    text += "."
    if span:
        text += (f" How sure: the cost curve is flat there — {span} costs within the best's 95 % confidence "
                 "interval, so pick any value in that range.")
    return text


def scenarios_sentence(result: dict) -> str:
    """/scenarios: the cheapest scenario by mean total cost, its paired difference against the baseline with
    the 95 % CI, and whether that difference is significant."""
    scen = result.get("scenarios", [])
    if not scen:
        return ""
    days = result.get("days")
    base = result.get("baseline_name") or scen[0]["name"]
    best = min(scen, key=lambda s: s["kpis"]["total_cost"]["mean"])
    cost = best["kpis"]["total_cost"]["mean"]
    if best["name"] == base:
        return (f"The baseline \"{base}\" is the cheapest of these scenarios: mean total cost "
                f"{per_day(cost, days)} over {days} days; keep its settings.")
    d = best.get("diff_vs_baseline", {}).get("total_cost") or {}
    mean, hw = float(d.get("mean", 0.0)), float(d.get("ci95") or 0.0)
    lo, hi = mean - hw, mean + hw
    sure = ("the 95 % CI of the difference spans 0, so the saving is not significant with these replications"
            if lo <= 0 <= hi else "significant at 95 % (the CI excludes 0)")
    return (f"Use \"{best['name']}\": mean total cost {per_day(cost, days)} over {days} days, "
            f"{-mean:,.2f} less than the baseline \"{base}\" (95 % CI of the saving {-hi:,.2f} to {-lo:,.2f}; "
            f"{sure}).")


def not_significant(diff: dict | None) -> bool:
    """A paired difference whose 95 % CI spans 0."""
    if not diff or diff.get("mean") is None:
        return False
    hw = float(diff.get("ci95") or 0.0)
    return float(diff["mean"]) - hw <= 0.0 <= float(diff["mean"]) + hw
