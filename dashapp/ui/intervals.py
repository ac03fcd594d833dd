"""A mean with its 95 % confidence half-width as the pages show it, and what they show instead for one path.

Why: replayed history is a single demand path. Its "mean" is that path's value and the half-width the engine
returns for it is 0 by construction (engine.studies.optimum.mean_ci95 gives 0 below two values; a replay scenario's
replications are copies of one path) — "± 0.00" would read as a certain figure when no interval exists. No dash.
"""
from __future__ import annotations

SINGLE_PATH = "1 path — no interval"


def single_path(samples=None, paths: int | None = None) -> bool:
    """True when the figure comes from one demand path: `paths` == 1, or every sample equal (copies of one path);
    False when neither is known."""
    if paths is not None:
        return int(paths) <= 1
    if samples is None:
        return False
    values = [float(x) for x in samples]
    return len(values) <= 1 or all(v == values[0] for v in values)


def mean_ci(text: str, half_width: float | None, one_path: bool, hw_text: str | None = None) -> str:
    """`text` (the formatted mean) with "± half-width", or with "(1 path — no interval)" for a single path.
    `hw_text` is the formatted half-width (default: two decimals with thousands separators)."""
    if one_path:
        return f"{text} ({SINGLE_PATH})"
    hw = float(half_width or 0.0)
    return f"{text} ± {hw_text if hw_text is not None else f'{hw:,.2f}'}"
