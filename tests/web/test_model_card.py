"""The /forecasts model card of a global model: its held-out verdict as a fact and its quantile backtest in the grid
(scaled pinball first, coverage per level), read from the shipped m5-global card."""
from __future__ import annotations

import json

from dashapp.pages.forecasts.model_card import backtest_grid, card_view, grid_rows, holdout_line
from tests.conftest import REPO


def _card(name: str) -> dict:
    return json.loads((REPO / "models" / name / "card.json").read_text())


def _texts(component) -> list[str]:
    out = []
    children = getattr(component, "children", None)
    if isinstance(children, str):
        out.append(children)
    for c in children if isinstance(children, list) else ([children] if children is not None else []):
        if not isinstance(c, str):
            out += _texts(c)
    return out


def test_a_global_card_states_its_held_out_verdict_and_ranks_its_grid_by_scaled_pinball():
    card = _card("m5-global")
    line = holdout_line(card)
    v = card["holdout_verdict"]
    assert line.startswith(f"scaled pinball {v['loss']:.4f}; held-out loss on m5_store.csv {v['ratio']:.2f} ×")
    assert line in _texts(card_view(card)[0])
    rows, quantiles = grid_rows(card["backtest"])
    assert quantiles and [r["pinball"] for r in rows] == sorted(r["pinball"] for r in rows)
    assert rows[0]["model"].startswith("Global quantile trees 'm5-global'")
    cov = card["backtest"]["models"]["ensemble:m5-global"]["overall"]["coverage"]
    assert (rows[0]["cover_90"], rows[0]["cover_99"]) == (cov["0.9"], cov["0.99"])
    fields = [c["field"] for c in backtest_grid(card["backtest"]).columnDefs]
    assert fields[:3] == ["model", "pinball", "mae"]


def test_a_one_day_ensemble_card_keeps_its_mae_order_and_has_no_verdict():
    card = _card("past-only")
    assert holdout_line(card) is None
    rows, quantiles = grid_rows(card["backtest"])
    assert not quantiles and [r["mae"] for r in rows] == sorted(r["mae"] for r in rows)
    assert "pinball" not in [c["field"] for c in backtest_grid(card["backtest"]).columnDefs]
