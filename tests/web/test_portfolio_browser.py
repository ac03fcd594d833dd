"""/portfolio in headless Chromium at 1440 px, as a planner uses it: upload a German-layout file, fix the one role
detection missed, run the portfolio, see the totals and the grid, get the second Run from the cache, and open one
series in the simulator from the grid; a bad file shows engine.data.layout's message and loses nothing already there."""
from __future__ import annotations

import time

import pytest

from tests.web.conftest import click, set_input, text_of, wait_until
from tests.web.test_portfolio_service import german_csv

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def planner_file(path, days: int = 120, series: int = 3):
    """The engine's generator output with German columns; the location column is "Markt", a name detection does
    not know, so the mapping step must be used."""
    path.write_bytes(german_csv(days=days, series=series, seed=11, location="Markt", location_prefix="Markt "))
    return path


def open_portfolio(d, url):
    d.get(url + "/portfolio")
    wait_until(lambda: d.find_element("css selector", "#pf-upload input[type=file]"), 20, what="the portfolio page")


def upload(d, path):
    d.find_element("css selector", "#pf-upload input[type=file]").send_keys(str(path))


def prop(d, element_id, name="value"):
    """A component's prop as the Dash renderer holds it."""
    return d.execute_script(
        "const s = window.store.getState(); const p = s.paths.strs[arguments[0]]; if (!p) return null;"
        "let n = s.layout; for (const k of p) n = n[k]; return n.props[arguments[1]];", element_id, name)


def choose(d, dropdown_id, label):
    """Open a dropdown and click the option with this label, as a user does."""
    click(d, dropdown_id)
    option = wait_until(lambda: next(o for o in d.find_elements("css selector", "[role=option]")
                                     if o.text.strip() == label), 5, what=f"option {label}")
    option.click()
    wait_until(lambda: prop(d, dropdown_id) == label, 5, what=f"{dropdown_id} = {label}")


def grid_series(d) -> list[str]:
    return [c.text for c in d.find_elements("css selector", "#pf-grid .ag-pinned-left-cols-container "
                                                             "[col-id=series]")]


def open_link(d, text_in_href) -> bool:
    """Click the grid's "Open in simulator" link whose address contains the text (the grid may re-render)."""
    link = next(a for a in d.find_elements("css selector", "#pf-grid a") if text_in_href in a.get_attribute("href"))
    d.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", link)
    link.click()
    return True


def test_upload_map_run_and_open_a_series_in_the_simulator(page, app, tmp_path):
    d = page
    open_portfolio(d, app.url)
    upload(d, planner_file(tmp_path / "verkauf.csv"))
    wait_until(lambda: prop(d, "pf-role-date") == "Datum", 20, what="the detected mapping")
    assert [prop(d, f"pf-role-{r}") for r in ("item", "demand", "price", "cost")] == \
        ["Artikel", "Menge", "Preis", "Kosten"]
    assert prop(d, "pf-role-location") == "__none__"  # "Markt" is not a known name: the user maps it
    assert "duplicate row" in text_of(d, "pf-file-problem")  # without a location the three stores' rows collide
    choose(d, "pf-role-location", "Markt")
    set_input(d, "pf-replications", 5)
    set_input(d, "pf-days", 30)
    click(d, "pf-run")
    wait_until(lambda: grid_series(d) == ["SKU_1/Markt 1", "SKU_1/Markt 2", "SKU_1/Markt 3"], 120,
               what="the grid's rows")
    assert text_of(d, "pf-total-series") == "3"
    assert "95 % CI" in text_of(d, "pf-results") and "Order-up-to, daily review" in text_of(d, "pf-results")
    assert "?run=" in d.current_url  # a reload finds this run again
    # the same file, mapping and settings again: served from the cache at once
    click(d, "pf-run")
    wait_until(lambda: "result cache" in text_of(d, "pf-cached"), 10, what="the cached result")
    # a row opens the simulator on that series with its settings
    wait_until(lambda: open_link(d, "Markt+2"), 10, what="the row's simulator link")
    wait_until(lambda: prop(d, "series") == "SKU_1/Markt 2", 20, what="the series selected in the simulator")
    assert prop(d, "data-source") == "upload" and prop(d, "horizon") == 30
    if prop(d, "policy") == "r-Q":  # the row's winner: a reorder point and quantity ...
        assert float(prop(d, "policy-s")) > 0 and float(prop(d, "policy-q")) >= 1
    else:  # ... or the order-up-to rule with the row's safety quantile Q
        assert prop(d, "policy") == "order-up-to" and prop(d, "param-safety-quantile") is not None
    assert "SKU_1/Markt 2" in d.find_element("id", "series").text
    click(d, "start")  # the series is really there: the run starts on it
    wait_until(lambda: "finished" in text_of(d, "sim-status"), 60, what="the simulator run on the series")


def test_a_bad_file_shows_the_engine_s_message_and_loses_nothing(page, app, tmp_path):
    d = page
    set_input(d, "horizon", 5)
    click(d, "start")  # a simulator run already in this session
    wait_until(lambda: "finished" in text_of(d, "sim-status"), 30, what="the simulator run")
    open_portfolio(d, app.url)
    upload(d, planner_file(tmp_path / "good.csv", days=60, series=2))
    wait_until(lambda: prop(d, "pf-role-date") == "Datum", 20, what="the detected mapping")
    # unreadable: the message, and the previous file's mapping stays
    (tmp_path / "latin1.csv").write_bytes("Datum;Artikel;Menge\n01.01.2024;Käse;3\n".encode("latin-1"))
    upload(d, tmp_path / "latin1.csv")
    msg = wait_until(lambda: text_of(d, "pf-upload-error"), 10, what="the refusal")
    assert "not UTF-8" in msg
    assert prop(d, "pf-role-date") == "Datum" and "good.csv" in text_of(d, "pf-file-check")
    # readable header, but weekly rows / a gap: engine.data.layout's message, on upload and on Run
    (tmp_path / "weekly.csv").write_text("date,sku,qty\n2024-01-01,A,3\n2024-01-08,A,1\n2024-01-15,A,1\n")
    upload(d, tmp_path / "weekly.csv")
    wait_until(lambda: "weekly" in text_of(d, "pf-file-problem"), 10, what="the weekly message")
    (tmp_path / "gap.csv").write_text("date,sku,qty\n" + "".join(
        f"2024-01-{k:02d},A,{k % 3}\n" for k in range(1, 31) if k not in (10, 11)))
    upload(d, tmp_path / "gap.csv")
    wait_until(lambda: "no rows for 2024-01-10 .. 2024-01-11" in text_of(d, "pf-file-problem"), 10, what="the gap")
    click(d, "pf-run")
    assert "no rows for 2024-01-10" in wait_until(lambda: text_of(d, "pf-error"), 10, what="the Run refusal")
    # the simulator session is untouched: its run and data source are as they were
    d.get(app.url + "/")
    wait_until(lambda: "Day 5 of 5" in text_of(d, "kpi-day"), 20, what="the simulator's run")
    assert prop(d, "data-source") == "sample"


def long_file(path, series: int = 60):
    """Enough work for a run that is still going when the test reloads and cancels it."""
    path.write_bytes(german_csv(days=200, series=series))
    return path


def progress_value(d) -> int:
    return int(prop(d, "pf-progress") or 0)


def test_a_running_job_is_found_again_after_a_reload_and_cancel_stops_it(page, app, tmp_path):
    d = page
    open_portfolio(d, app.url)
    upload(d, long_file(tmp_path / "long.csv"))
    wait_until(lambda: prop(d, "pf-role-location") == "Filiale", 20, what="the detected mapping")
    set_input(d, "pf-replications", 400)
    set_input(d, "pf-days", 365)
    click(d, "pf-run")
    wait_until(lambda: d.find_element("id", "pf-cancel").is_enabled(), 20, what="Cancel enabled while running")
    wait_until(lambda: progress_value(d) > 0, 120, what="progress")
    wait_until(lambda: "?run=" in d.current_url, 5, what="the run's address")
    from dashapp.ui.jobs import JobStore

    store = JobStore(None, directory=str(app.var_dir / "jobs" / "scenario-records"))
    assert store.get_status("portfolio", d.current_url.split("?run=")[1])["state"] == "running"
    # a reload finds the running job again
    d.refresh()
    msg = wait_until(lambda: text_of(d, "pf-reattach-msg"), 20, what="the reattach message")
    assert "in progress" in msg and "series" in msg
    # the reloaded page cancels the job it found: it stops at its next progress report, no result is stored
    first = d.current_url.split("?run=")[1]
    wait_until(lambda: d.find_element("id", "pf-cancel").is_enabled(), 20, what="Cancel enabled after the reload")
    click(d, "pf-cancel")
    wait_until(lambda: "cancelled" in text_of(d, "pf-cancelled"), 10, what="the cancel message after the reload")
    wait_until(lambda: store.get_status("portfolio", first) is None, 60, what="the reattached job to stop")
    time.sleep(2)
    assert store.get_result("portfolio", first) is None
    # the page that started a run cancels it: a fresh start of another setting, then Cancel
    upload(d, long_file(tmp_path / "long2.csv", series=40))
    wait_until(lambda: prop(d, "pf-role-location") == "Filiale", 20, what="the detected mapping")
    set_input(d, "pf-replications", 300)
    set_input(d, "pf-days", 365)
    click(d, "pf-run")
    wait_until(lambda: "?run=" in d.current_url and d.current_url.split("?run=")[1] != first, 10,
               what="the second run's address")
    key = d.current_url.split("?run=")[1]
    wait_until(lambda: (store.get_status("portfolio", key) or {}).get("done", 0) > 0, 120,
               what="progress of the second run")
    click(d, "pf-cancel")
    wait_until(lambda: d.find_element("id", "pf-run").is_enabled(), 20, what="Run enabled again")
    # the message may be re-rendered while it is read (a stale element): read until it holds the word
    wait_until(lambda: "cancelled" in text_of(d, "pf-cancelled"), 10, what="the cancel message")
    stopped_at = progress_value(d)
    time.sleep(3)
    assert progress_value(d) == stopped_at and not d.find_elements("css selector", "#pf-grid .ag-row")
    # the job is gone, not only hidden: no heartbeat after the cancel, no result
    assert store.get_status("portfolio", key) is None and store.get_result("portfolio", key) is None


def test_the_target_fields_hold_a_percentage_and_an_odd_fraction_as_typed(page, app):
    """The browser hands dash a blank for a number outside an input's HTML min/max/step: the target fields of
    /portfolio and /optimum hold what the planner typed (95, 0.953) so the server reads it (95 is 0.95)."""
    d = page
    open_portfolio(d, app.url)
    for typed in ("95", "0.953"):
        set_input(d, "pf-target", typed)
        assert prop(d, "pf-target") == float(typed)
    set_input(d, "pf-replications", "5000")  # outside 2–1000: held, for the server to name the range
    assert prop(d, "pf-replications") == 5000
    d.get(app.url + "/optimum")
    wait_until(lambda: d.find_element("id", "opt-target"), 20, what="the optimum page")
    for typed in ("97.5", "0.953"):
        set_input(d, "opt-target", typed)
        assert prop(d, "opt-target") == float(typed)
    set_input(d, "opt-replications", "5000")
    click(d, "opt-run")
    wait_until(lambda: "“Replications” must be between 2 and" in text_of(d, "opt-status"), 20,
               what="the range of replications named on /optimum")
