"""The after-run hint's sentence: the run's own cost (the figure on the Cumulative cost card) first, then the best
z / S for these settings on the improvement study's evaluation paths (engine.studies.optimum.improvement_hint).

Why here and not the engine's message: the card shows the animated run's single demand path, the study a mean
over many paths; a sentence that names one cost without saying which run it is reads as a contradiction
("4.93" beside a card showing "4.50"). On replayed history both are the same path and the same number. No dash.
"""
from __future__ import annotations


def hint_sentence(h: dict, run_cost: float | None) -> str:
    """One or two sentences from improvement_hint's dict `h`; `run_cost` is the run's cumulative cost."""
    current, paths = float(h["current_cost"]), int(h.get("replications") or 1)
    replay = paths == 1
    run = "" if run_cost is None else f"Your run cost {run_cost:,.2f} (the Cumulative cost card). "
    if h.get("best") is None:
        return run + h["message"]
    chosen = f"chosen on {h['selected_on']}" if h.get("selected_on") else "chosen out of sample"
    if replay:
        where = "on the replayed history"
        mine = f"{current:,.2f} for your rule"
    else:
        where = f"as means over {paths} demand paths like this run's"
        mine = f"your rule averages {current:,.2f}"
    if h["saving"] <= 0:
        return run + f"Your rule is already as good as the best z / S {chosen} ({mine}, {where})."
    best_cost = current - float(h["saving"])
    return run + (f"Best for these settings ({chosen}): {h['best']} — cost {best_cost:,.2f} vs {mine} "
                  f"({float(h['saving_pct']):.1%} less), {where}.")
