"""Where a run's unit cost and unit price come from, said beside the numbers they drive.

"entered": the user set it (a command-line option, a page field); "file": a price / cost column of the data file
(engine.data.dataset.load_csv keeps the series' last known value); "assumed": the defaults (unit cost 20, price 40;
a file with a price but no cost has its cost assumed at the same 20/40 ratio of that price). The costs of a run
carry one `source` — "entered" when anything was entered, else "file" when the file gave the price or the cost,
else "assumed" — and `sources` per quantity, so a page can say "unit cost 20 assumed" next to a cost.
"""
from __future__ import annotations

__all__ = ["SOURCES", "cost_sources", "overall_source"]

SOURCES = ("entered", "file", "assumed")


def cost_sources(series, unit_cost=None, unit_price=None) -> dict[str, str]:
    """{"unit_cost": source, "unit_price": source} of one series (a SeriesData) under the entered values (None:
    not entered)."""
    return {"unit_cost": "entered" if unit_cost is not None else getattr(series, "cost_source", "assumed"),
            "unit_price": "entered" if unit_price is not None else getattr(series, "price_source", "assumed")}


def overall_source(sources: dict[str, str]) -> str:
    """One word for a run's costs: the first of entered, file, assumed that any quantity has."""
    values = set(sources.values())
    return next(s for s in SOURCES if s in values) if values else "assumed"
