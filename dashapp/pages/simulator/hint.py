"""The after-run hint's comparison sentence: the user's rule as set against the recommendation
(engine.studies.recommend) on the recommendation's own evaluation paths, both from the same start stock — and the
animated run's own cost named for what it is (one path, its own start), so no two costs for one thing appear
without saying which is which; and, when the run's rule has a service-level target, where the answer to that target
is (the hint answers at least expected cost). No dash."""
from __future__ import annotations

__all__ = ["comparison_sentence", "target_sentence", "run_days_sentence"]


def comparison_sentence(rec: dict, rule: dict, run_cost: float | None, backorders: bool = False) -> str:
    """One or two sentences: your rule vs the recommendation on the same paths, then the animated run's cost."""
    mine, best = float(rule["expected_cost"]), float(rec["expected_cost"])
    low, high = rule.get("start_range") or (rule["start_on_hand"], rule["start_on_hand"])
    stock = (f"{rule['start_on_hand']:,.1f} on hand" if high - low < 0.05 else
             f"{low:,.1f} to {high:,.1f} on hand (the (s, S) cycle's positions, one per path)")
    where = (f"on the same {rule['paths']} resampled {rule['days']}-day paths, both starting with "
             f"{stock} and nothing on order"
             + (", with lost sales (the recommendation's model)" if backorders else ""))
    if mine - best > 1e-9 * max(1.0, abs(best)):   # float residue (0 against 1e-17) is no difference
        verdict = (f"your rule as set costs {mine:,.2f} against {best:,.2f} for the recommendation "
                   f"({(mine - best) / mine:.1%} less with it)")
    else:
        verdict = (f"your rule as set costs {mine:,.2f}, no more than the recommendation's {best:,.2f}, on these "
                   "resampled paths: keep it, or see how the recommendation did on the real days after the "
                   "history (Portfolio → Check against history) — the paths resample week-long stretches, which "
                   "scramble a trend or a season that the days themselves follow")
    run = "" if run_cost is None else (f" Your animated run cost {run_cost:,.2f} on its one demand path (the "
                                       "Cumulative cost card).")
    return f"Compared {where}: {verdict}.{run}"


def target_sentence(target: float | None, rec: dict) -> str | None:
    """The run's service-level target against the hint's objective (least expected cost), and where the answer to
    the target is: /optimum under "least stock whose fill rate reaches the target" (the link carries it,
    dashapp.ui.carry_settings.service_target). None without a target or when the recommendation already has it."""
    if target is None or (rec.get("objective") or {}).get("name") != "cost":
        return None
    fill = rec.get("fill_rate")
    served = "" if fill is None else f" (fill rate {fill:.1%})"
    return (f"You set a service-level target of {target:.1%}; this recommendation is the least-cost one{served}. "
            f"The least stock whose fill rate reaches {target:.1%} is on /optimum: the link below opens it with "
            "that objective.")


def run_days_sentence(both: dict | None, replayed: bool) -> str | None:
    """Both rules on the days the run just played (engine.studies.recommend.both_on_the_run_s_days), from its start
    stock; with replayed history those days are part of the history the recommendation was chosen on, and the
    sentence says so (in-sample, not a promise). None without the figures."""
    if not both:
        return None
    def pct(x):
        return "n/a" if x is None else f"{x:.1%}"
    days = (f"your run's own {both['days']} days (the replayed history, which the recommendation was chosen on: "
            "in sample)" if replayed else f"your run's own {both['days']} days (the path it drew)")
    return (f"On {days}, both from {both['start_on_hand']:,.1f} on hand: the recommendation's rule costs "
            f"{both['recommended']:,.2f} (fill rate {pct(both['recommended_fill'])}) against your rule's "
            f"{both['yours']:,.2f} (fill rate {pct(both['yours_fill'])}).")
