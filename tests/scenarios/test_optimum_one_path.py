"""/optimum on a replay of the file's history: one path is said to be one path (no "± 0.00" intervals) and the
rolling-origin backtest is offered instead; many paths keep their intervals."""
from __future__ import annotations

import pytest

from engine.simulation.simulator import SimConfig
from engine.studies.optimum import optimum_report


@pytest.mark.slow
def test_a_replay_is_labelled_one_path_and_points_to_the_backtest(sample_series):
    import dashapp.app  # noqa: F401 - the pages register themselves on the app
    from dashapp.pages.optimum.page import _render

    replay = optimum_report(SimConfig.from_options({"forecaster": "ma7", "demand": "replay", "days": 60}),
                            sample_series, 20, quick=True)
    assert replay["replications"] == 1
    text = str(_render(replay))
    assert "1 path — no interval" in text and "± 0.00" not in text and "opt-one-path" in text
    assert "Check against history" in text and "1 paths" not in text
    many = optimum_report(SimConfig.from_options({"forecaster": "ma7", "demand": "synthetic", "days": 30,
                                                  "seed": 3}), sample_series, 4, quick=True)
    text = str(_render(many))
    assert "opt-one-path" not in text and " ± " in text and "4 paths" in text
