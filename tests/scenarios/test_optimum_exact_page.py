"""The exact-optimum section of /optimum: its request check, its sentence, its gap table and its picture are pure
functions of the solver's record (fast tier); one browser test solves a small Poisson instance on the real app."""
from __future__ import annotations

import re

import numpy as np
import pytest

from dashapp.pages.optimum import exact as ox
from dashapp.pages.optimum import exact_service as svc
from dashapp.pages.optimum.exact_figures import optimal_order_figure
from engine.errors import ConfigError
from engine.exact.policies import evaluate_base_stock


@pytest.fixture(scope="module")
def poisson_record():
    req = svc.request_from_fields("poisson", 5, None, None, 2, 1, 9, "lost sales")
    return svc.exact_record(req)


def _numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in re.findall(r"-?[0-9][0-9,]*\.?[0-9]*", text)]


def test_headline_names_the_optimum_and_the_gaps_the_table_shows(poisson_record):
    rep = poisson_record
    line = ox.headline(rep)
    assert line.startswith(f"Best possible: {rep['optimal_cost']:,.3f} per day")
    rows = {r["policy"]: r for r in ox.gap_rows(rep)}
    simple = {"Capped base-stock", "Projected inventory level (PIL)"}
    best = min(simple, key=lambda name: _numbers(rows[name]["cost"])[0])
    assert f"{best} ({rows[best]['params']}) is within {rows[best]['gap']}" in line
    look = next(name for name in rows if name.startswith("One-step lookahead"))
    assert best.lower() in look and "(heuristic)" in look
    assert f"lookahead on it (a heuristic) within {rows[look]['gap']}" in line
    assert f"loses {rows['Base-stock']['gap']}" in line


def test_gap_table_has_every_policy_with_units_and_true_gaps(poisson_record):
    rep = poisson_record
    rows = ox.gap_rows(rep)
    assert [r["policy"] for r in rows][:5] == ["Optimal policy", "Base-stock", "Capped base-stock",
                                              "Projected inventory level (PIL)", "Constant order"]
    assert rows[5]["policy"].startswith("One-step lookahead on") and len(rows) == 6
    assert all(r["cost"].endswith("per day") and r["gap"].endswith("%") for r in rows)
    gaps = [_numbers(r["gap"])[0] for r in rows]
    assert gaps[0] == 0 and all(g >= 0 for g in gaps[1:])
    # the base-stock row is the exact cost of that level, computed independently of the report
    S = rep["base_stock"]["level"]
    exact = evaluate_base_stock(2, svc.demand_dist({"dist": "poisson", "mean": 5}).pmf, 1, 9, S).cost
    assert rows[1]["cost"] == f"{exact:,.3f} per day"
    assert gaps[1] == pytest.approx(100 * (exact / rep["optimal_cost"] - 1), abs=0.006)
    assert gaps[1] > gaps[2]  # capped base-stock closes part of base-stock's gap
    assert gaps[5] <= min(gaps[2], gaps[3]) and gaps[5] < 0.5  # the lookahead improves on the best simple policy


def test_picture_shows_the_optimal_order_of_every_state(poisson_record):
    rep = poisson_record
    recs = rep["policy_records"]
    fig = optimal_order_figure(recs, 2)
    heat = fig.data[0]
    assert heat.type == "heatmap"
    z = {(x, y): heat.z[j][i] for j, y in enumerate(heat.y) for i, x in enumerate(heat.x)}
    assert all(z[(r["on_hand"], r["pipeline"])] == r["order"] for r in recs)
    assert len(recs) == rep["states"]
    # more stock on hand never calls for a larger order (the optimal lost-sales order falls with on-hand stock)
    for y in heat.y:
        row = [z[(x, y)] for x in heat.x if z[(x, y)] is not None]
        assert all(a >= b for a, b in zip(row, row[1:]))
    assert z[(0, 0)] > 0 and z[(max(heat.x), 0)] == 0
    assert "units" in fig.layout.xaxis.title.text and "units" in fig.layout.yaxis.title.text


def test_lead_time_one_picture_is_a_single_row():
    recs = [{"on_hand": x, "pipeline": 0, "order": max(4 - x, 0)} for x in range(6)]
    heat = optimal_order_figure(recs, 1).data[0]
    assert list(heat.y) == [0] and heat.z[0] == [4, 3, 2, 1, 0, 0]


def test_backorders_say_base_stock_is_optimal():
    rep = svc.exact_record(svc.request_from_fields("poisson", 5, None, None, 1, 1, 9, "backorders"))
    line = ox.headline(rep)
    assert "base-stock is optimal" in line and f"S = {rep['base_stock']['level']:g}" in line
    assert "policy_records" not in rep  # the backorder optimum is base-stock: no state picture


def test_lead_time_beyond_reach_is_not_certified_with_the_largest_solved_lead_time():
    rep = svc.exact_record(svc.request_from_fields("poisson", 20, None, None, 8, 1, 19, "lost sales"))
    assert rep["certified"] is False
    line = ox.headline(rep)
    assert line.startswith("Not certified (lead time beyond reach)")
    assert f"the largest lead time it solves is {rep['largest_lead_time']} days" in line
    assert 0 <= rep["largest_lead_time"] < 8
    rows = ox.gap_rows(rep)
    assert rows and all(r["gap"] == "not certified (lead time beyond reach)" for r in rows)
    assert "lead time 8 days: not certified" in ox.certificate_line(rep)


def _upload_file(tmp_path):
    path = tmp_path / "planner.csv"
    lines = ["Date,SKU_ID,Warehouse_ID,Units_Sold"]
    import datetime as dt

    for i in range(120):
        day = (dt.date(2024, 1, 1) + dt.timedelta(days=i)).isoformat()  # consecutive days: the loader refuses gaps
        lines.append(f"{day},A1,North,{(i * 7) % 5}")
        lines.append(f"{day},B2,North,{(i * 3) % 11 // 2}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_uploaded_series_gives_a_certificate_for_its_own_distribution(tmp_path):
    raw = _upload_file(tmp_path).read_bytes()
    up = svc.uploaded_counts(raw, "planner.csv", 2**20)
    assert set(up["series"]) == {"A1/North", "B2/North"}
    assert sum(up["series"]["A1/North"]) == 120
    req = svc.request_from_fields("empirical", None, None, "B2/North", 3, 1, 9, "lost sales", uploaded=up)
    rep = svc.exact_record(req)
    assert rep["demand"] == "empirical:B2/North" and rep["source"] == "planner.csv"
    expected = np.array(up["series"]["B2/North"]) @ np.arange(len(up["series"]["B2/North"])) / 120
    assert rep["demand_mean"] == pytest.approx(expected)
    line = ox.certificate_line(rep)
    assert line.startswith("Certificate for series B2/North of planner.csv, lead time 3 days")
    gaps = [_numbers(r["gap"])[0] for r in ox.gap_rows(rep)]
    assert gaps[0] == 0 and min(gaps[1:]) < 0.5 and all(g >= 0 for g in gaps)


@pytest.mark.parametrize("fields, words", [
    (("poisson", None, None, None, 2, 1, 9, "lost sales"), "mean is missing"),
    (("negbin", 5, 4, None, 2, 1, 9, "lost sales"), "VAR > MEAN"),
    (("poisson", 5, None, None, 1.5, 1, 9, "lost sales"), "lead time must be a whole number"),
    (("poisson", 5, None, None, 2, 0, 9, "lost sales"), "h must be positive"),
    (("empirical", None, None, None, 2, 1, 9, "lost sales"), "choose a series"),
    (("weibull", 5, None, None, 2, 1, 9, "lost sales"), "demand distribution must be"),
])
def test_bad_fields_get_one_sentence(fields, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        svc.request_from_fields(*fields)


def test_empirical_distribution_of_a_series_of_the_data():
    series = ox._series_names()[0]
    req = svc.request_from_fields("empirical", None, None, series, 0, 1, 9, "lost sales")
    d = svc.demand_dist(req)
    assert d.label == f"empirical:{series}" and d.mean > 0


@pytest.fixture(scope="module")
def app(tmp_path_factory, sample_csv):
    from tests.scenarios.conftest import app_env, start_app

    var = tmp_path_factory.mktemp("optimum-exact")
    a = start_app(var / "app", app_env(var / "app", sample_csv))
    yield a
    a.stop()


def _type(browser, element_id: str, value) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    field = browser.find_element(By.ID, element_id)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(str(value))


def test_page_solves_a_small_poisson_instance_and_refuses_a_too_large_one(app, browser, sample_csv):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from dashapp import ids

    browser.get(f"{app.url}/optimum")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, ids.EXACT_RUN))
    # the cost fields open on the simulator's h and p for the page's scenario (the default one here)
    from engine.data.dataset import load_csv
    from engine.simulation.simulator import resolve_costs
    from engine.studies import scenarios as sc

    config = sc.build_configs(sc.rows_to_set(sc.default_table_rows()[:1], replications=100, days=90, seed=1))[0]
    costs = resolve_costs(config, load_csv(str(sample_csv)).get(config.series))
    assert float(browser.find_element(By.ID, ids.EXACT_H).get_attribute("value")) == round(costs["h"], 6)
    assert float(browser.find_element(By.ID, ids.EXACT_P).get_attribute("value")) == round(costs["p"], 4)
    _type(browser, ids.EXACT_H, 1)
    _type(browser, ids.EXACT_P, 9)
    _type(browser, ids.EXACT_MEAN, 4)
    _type(browser, ids.EXACT_LEAD, 1)
    browser.find_element(By.ID, ids.EXACT_RUN).click()
    WebDriverWait(browser, 90).until(lambda d: d.find_elements(By.ID, ids.EXACT_TABLE)
                                     or d.find_elements(By.ID, "optx-error"))
    assert not browser.find_elements(By.ID, "optx-error"), browser.find_element(By.ID, ids.EXACT_STATUS).text
    expected = svc.exact_record(svc.request_from_fields("poisson", 4, None, None, 1, 1, 9, "lost sales"))
    head = browser.find_element(By.ID, ids.EXACT_HEADLINE).text
    assert head == ox.headline(expected)
    table = browser.find_element(By.ID, ids.EXACT_TABLE).text
    for row in ox.gap_rows(expected):
        assert row["policy"] in table and row["cost"] in table and row["gap"] in table
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#{ids.EXACT_GRAPH} .main-svg"))



def test_page_certifies_the_policies_of_an_uploaded_series_and_says_when_it_cannot(app, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from dashapp import ids

    browser.get(f"{app.url}/optimum")
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, ids.EXACT_RUN))
    path = _upload_file(tmp_path)
    browser.find_element(By.CSS_SELECTOR, f"#{ids.EXACT_UPLOAD} input[type=file]").send_keys(str(path))
    WebDriverWait(browser, 30).until(lambda d: "planner.csv: 2 series" in d.find_element(
        By.ID, ids.EXACT_UPLOAD_STATUS).text)
    _type(browser, ids.EXACT_H, 1)  # the fields open on the simulator's costs; the certificate below uses h 1, p 9
    _type(browser, ids.EXACT_P, 9)
    _type(browser, ids.EXACT_LEAD, 3)
    browser.find_element(By.ID, ids.EXACT_RUN).click()
    WebDriverWait(browser, 120).until(lambda d: d.find_elements(By.ID, ids.EXACT_CERTIFICATE)
                                      or d.find_elements(By.ID, "optx-error"))
    assert not browser.find_elements(By.ID, "optx-error"), browser.find_element(By.ID, ids.EXACT_STATUS).text
    up = svc.uploaded_counts(path.read_bytes(), "planner.csv", 2**20)
    expected = svc.exact_record(svc.request_from_fields("empirical", None, None, "A1/North", 3, 1, 9, "lost sales",
                                                        uploaded=up))
    assert browser.find_element(By.ID, ids.EXACT_CERTIFICATE).text == ox.certificate_line(expected)
    assert browser.find_element(By.ID, ids.EXACT_HEADLINE).text == ox.headline(expected)
    table = browser.find_element(By.ID, ids.EXACT_TABLE).text
    for row in ox.gap_rows(expected):
        assert row["policy"] in table and row["gap"] in table

    _type(browser, ids.EXACT_LEAD, 25)
    browser.find_element(By.ID, ids.EXACT_RUN).click()
    WebDriverWait(browser, 60).until(
        lambda d: "not certified" in d.find_element(By.ID, ids.EXACT_RESULTS).text.lower())
    head = browser.find_element(By.ID, ids.EXACT_HEADLINE).text
    assert head.startswith("Not certified (lead time beyond reach): lead time 25 days")
    assert "the largest lead time it solves is" in head and "Traceback" not in head
    assert "Certificate for series A1/North of planner.csv" in browser.find_element(By.ID, ids.EXACT_CERTIFICATE).text


def test_a_zero_cost_optimum_reads_as_undefined_gaps_not_a_crash():
    """Demand of exactly 4 every day: the optimum costs 0, every gap is a ratio to 0 (engine.exact.report's
    gap_note); the page says so instead of dividing by it."""
    from engine.exact.distributions import DemandDist
    from engine.exact.report import exact_report
    rep = exact_report(DemandDist(np.array([0.0, 0.0, 0.0, 0.0, 1.0]), "constant:4"), 2)
    assert rep["optimal_cost"] == 0.0 and rep.get("gap_note")
    rows = ox.gap_rows(rep)
    assert rows[0]["gap"] == "0.00 %" and all(r["gap"] == "undefined (the optimum costs 0)" for r in rows[1:])
    assert "undefined" in ox.headline(rep) or "0.000 per day" in ox.headline(rep)


def test_an_uncertified_optimum_says_why_in_the_headline():
    rep = {"certified": False, "status": "not certified (the optimum's bounds did not meet)", "lead_time": 2,
           "message": "not certified (the optimum's bounds did not meet): value iteration stopped after 10 iterations"}
    assert ox.headline(rep).startswith("Not certified (the optimum's bounds did not meet): value iteration")
    assert {r["gap"] for r in ox.gap_rows(rep)} == {rep["status"]}
