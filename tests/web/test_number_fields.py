"""Every number field of every page carries no HTML min/max and step "any". A browser hands dash a blank for a
number outside an input's min/max/step (dash-bootstrap-components sends NaN, JSON null), so 5000 replications
or a fill-rate target typed as 95 would reach the server as nothing and the planner would read "a value is
required" for what was typed; the server's checks name the range instead. The browser half is in
test_portfolio_browser.py (the renderer holds what was typed)."""
from __future__ import annotations

import dash
import pytest

import dashapp.app  # noqa: F401 - the pages register themselves on the app


def _number_inputs(component, found):
    if getattr(component, "type", None) == "number" and hasattr(component, "id"):
        found.append(component)
    children = getattr(component, "children", None)
    for c in children if isinstance(children, (list, tuple)) else ([children] if children is not None else []):
        if not isinstance(c, (str, int, float)):
            _number_inputs(c, found)
    return found


PAGES = sorted(p["path"] for p in dash.page_registry.values())


@pytest.mark.parametrize("path", PAGES)
def test_no_number_field_has_html_bounds(path):
    page = next(p for p in dash.page_registry.values() if p["path"] == path)
    layout = page["layout"]() if callable(page["layout"]) else page["layout"]
    fields = _number_inputs(layout, [])
    for f in fields:
        bounds = {a: getattr(f, a, None) for a in ("min", "max")}
        assert bounds == {"min": None, "max": None}, f"{path} #{f.id}: {bounds}"
        assert getattr(f, "step", None) == "any", f"{path} #{f.id}: step {getattr(f, 'step', None)!r}"


def test_the_pages_with_number_fields_are_walked():
    """The walk finds the fields it is meant to check (a walk that finds nothing would pass vacuously)."""
    found = {}
    for p in dash.page_registry.values():
        layout = p["layout"]() if callable(p["layout"]) else p["layout"]
        found[p["path"]] = {f.id for f in _number_inputs(layout, [])}
    assert {"pf-replications", "pf-target"} <= found["/portfolio"]
    assert {"opt-replications", "opt-target"} <= found["/optimum"]
    assert "sc-days" in found["/scenarios"] and "bt-holdout" in found["/forecasts"]
