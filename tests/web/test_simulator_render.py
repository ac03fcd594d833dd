"""The simulator page's full redraw sends exactly the figures dashapp.ui.figures builds, without building them."""
from __future__ import annotations

import json

import pytest
from plotly.utils import PlotlyJSONEncoder

from dashapp import engine_facade as E
from dashapp import ids
from dashapp.pages.simulator.render import figure_dict
from dashapp.ui import figures
from dashapp.ui.policy_fields import field_specs
from dashapp.ui.validation import DEFAULT_CONTROLS, clean_controls


def _json(obj) -> dict:
    return json.loads(json.dumps(obj, cls=PlotlyJSONEncoder))


@pytest.fixture(scope="module")
def ledger():
    c = clean_controls(dict(DEFAULT_CONTROLS, forecaster="ma7", demand_mode="synthetic", horizon=40),
                       {"ma7"}, E.policy_options(), {k: b for k, (_l, _s, b) in field_specs().items()})
    sim = E.build_simulator(None, "x", c)
    sim.run(30)
    return sim.ledger


@pytest.mark.parametrize("graph_id", ids.GRAPHS)
@pytest.mark.parametrize("days", [0, 1, 30])
@pytest.mark.parametrize("horizon", [40, 730, None])
def test_figure_dict_equals_the_built_figure(ledger, graph_id, days, horizon):
    built = figures.build_figure(graph_id, ledger[:days], horizon).to_plotly_json()
    assert _json(figure_dict(graph_id, ledger[:days], horizon)) == _json(built)


def test_figure_dicts_are_independent_copies(ledger):
    a = figure_dict("graph-demand", [], 40)
    a["data"][0]["x"].append(99)
    assert figure_dict("graph-demand", [], 40)["data"][0]["x"] == []
