"""US holidays computed from dates (engine.forecast.holiday_calendar) and the global model's holiday inputs."""
from __future__ import annotations

import numpy as np

from engine.forecast import global_features as G
from engine.forecast.holiday_calendar import CHRISTMAS, HOLIDAYS, easter, holiday_codes


def _day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


def _code(name: str) -> int:
    return [h[0] for h in HOLIDAYS].index(name) + 1


def test_rule_holidays_fall_on_their_known_dates():
    known = {"2015-11-26": "thanksgiving", "2016-11-24": "thanksgiving", "2015-05-25": "memorial",
             "2016-05-30": "memorial", "2015-09-07": "labor", "2016-02-15": "presidents",
             "2016-01-18": "martin_luther_king", "2016-02-07": "super_bowl", "2015-02-01": "super_bowl",
             "2015-04-05": "easter", "2016-03-27": "easter", "2016-05-08": "mothers_day",
             "2015-06-21": "fathers_day", "2015-07-04": "independence", "2015-12-25": "christmas",
             "2016-01-01": "new_year", "2015-10-31": "halloween", "2015-02-14": "valentines"}
    codes = holiday_codes(np.asarray([_day(d) for d in known]))
    assert codes.tolist() == [_code(n) for n in known.values()]


def test_ordinary_days_have_code_zero_and_a_year_has_each_holiday_once():
    days = np.arange(_day("2015-01-01"), _day("2016-01-01"))
    codes = holiday_codes(days)
    assert sorted(codes[codes > 0].tolist()) == list(range(1, len(HOLIDAYS) + 1))
    assert holiday_codes(np.asarray([_day("2015-11-27"), _day("2015-12-24")])).tolist() == [0, 0]


def test_easter_matches_published_dates():
    assert [str(easter(y)) for y in (2000, 2011, 2019, 2024, 2038)] == [
        "2000-04-23", "2011-04-24", "2019-04-21", "2024-03-31", "2038-04-25"]


def _holiday_columns(X):
    return {name: X[:, G.FEATURES.index(name)] for name in G.HOLIDAY_FEATURES}


def test_a_window_over_christmas_counts_it_apart_from_the_other_holidays():
    t = 400
    first = _day("2015-12-20")                 # the first summed day; the window of 8 days ends on Dec 27
    day_number = (first - t + np.arange(t + 40))[None, :]
    y = np.ones((2, t))
    X, _ = G.build_features(y, np.asarray([[8], [3]]), day_number)
    c = _holiday_columns(X)
    assert np.allclose(c["christmas_share"], [1 / 8, 0.0])   # Dec 20–27 holds Christmas, Dec 20–22 does not
    assert np.allclose(c["holiday_share"], 0.0)
    assert np.allclose(c["days_to_holiday"], 5) and np.allclose(c["next_holiday"], CHRISTMAS)


def test_thanksgiving_and_the_recent_holiday_share():
    t = 400
    first = _day("2015-11-23")
    day_number = (first - t + np.arange(t + 40))[None, :]
    X, _ = G.build_features(np.ones((1, t)), 8, day_number)
    c = _holiday_columns(X)
    assert np.allclose(c["holiday_share"], 1 / 8) and np.allclose(c["next_holiday"], _code("thanksgiving"))
    assert np.allclose(c["days_to_holiday"], 3) and np.allclose(c["holiday_recent"], 0.0)
    X, _ = G.build_features(np.ones((1, t)), 8, day_number + 7)   # the week after: Thanksgiving among the last 7
    assert np.allclose(_holiday_columns(X)["holiday_recent"], 1 / 7)


def test_a_file_without_dates_gets_the_unknown_holiday_values():
    X, _ = G.build_features(np.ones((3, 200)), 8)
    for values in _holiday_columns(X).values():
        assert np.all(values == -1.0)
