"""The /portfolio page's service without a browser: upload → detected mapping → a changed mapping → records;
each layout error's message; settings; the cache key; the simulator link; sharing the file with the simulator;
the CSV export; and the Celery chunk dispatcher's merge (with a stand-in queue nobody serves)."""
from __future__ import annotations

import base64
import csv
import io
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest

from dashapp.pages.portfolio import service as P
from dashapp.platform.store import make_kv
from engine.data.layout import ROLES
from engine.studies.portfolio import PortfolioSettings, run_portfolio

SMALL = dict(replications=4, days=21, history_days=60, backtest_days=14)


def german_csv(days: int = 90, series: int = 2, seed: int = 5, location: str = "Filiale",
               location_prefix: str | None = None) -> bytes:
    """The engine's generator output in a German layout (Datum DD.MM.YYYY, Artikel, `location`, Menge, Preis,
    Kosten); `location_prefix` replaces the generator's "WH_" in the location values."""
    from engine.data.generator import generate_rows

    rows = generate_rows(days=days, series=series, seed=seed)
    col = {c: i for i, c in enumerate(rows[0])}
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["Datum", "Artikel", location, "Menge", "Preis", "Kosten"])
    for r in rows[1:]:
        y, m, d = r[col["Date"]].split("-")
        where = r[col["Warehouse_ID"]] if location_prefix is None else \
            r[col["Warehouse_ID"]].replace("WH_", location_prefix)
        w.writerow([f"{d}.{m}.{y}", r[col["SKU_ID"]], where, r[col["Units_Sold"]],
                    r[col["Unit_Price"]], r[col["Unit_Cost"]]])
    return out.getvalue().encode()


def data_url(raw: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(raw).decode()


@pytest.fixture
def files(tmp_path):
    return make_kv(None, str(tmp_path / "files"), 600, prefix="pf:")


def test_an_upload_shows_the_detected_mapping_and_the_file_check(files):
    insp = P.inspect_upload(files, data_url(german_csv()), "C:\\Users\\x\\verkauf.csv", 2**20)
    assert insp.name == "verkauf.csv"  # no client path
    assert insp.header == ["Datum", "Artikel", "Filiale", "Menge", "Preis", "Kosten"]
    assert {r: insp.mapping[r] for r in ("date", "item", "location", "demand", "price", "cost")} == {
        "date": "Datum", "item": "Artikel", "location": "Filiale", "demand": "Menge", "price": "Preis",
        "cost": "Kosten"}
    assert insp.mapping["promotion"] is None and insp.mapping["lead_time"] is None
    assert insp.problem is None and insp.summary.startswith("2 series, 180 days in all")
    assert P.kept_file(files, insp.file_id) == ("verkauf.csv", german_csv())


def test_a_layout_detection_cannot_read_is_mapped_by_hand(files):
    raw = b"when,thing,amount\n2024-01-01,A,3\n2024-01-02,A,1\n2024-01-03,A,0\n"
    insp = P.inspect_upload(files, data_url(raw), "odd.csv", 2**20)
    assert insp.mapping["date"] is None and "no demand column found" in insp.problem
    ds = P.read_dataset(files, insp.file_id, {"date": "when", "item": "thing", "demand": "amount"}, False)
    assert list(ds.series) == ["A"] and ds.get().demand.tolist() == [3.0, 1.0, 0.0]
    # the same file read with a changed role: "thing" is now the location of an item-less file
    ds = P.read_dataset(files, insp.file_id, {"date": "when", "location": "thing", "demand": "amount"}, False)
    assert list(ds.series) == ["ALL/A"]


@pytest.mark.parametrize("text, words", [
    ("date,sku,qty\n2024-01-01,A,3\n2024-01-02,A,1\n2024-01-01,A,0\n", ["duplicate row", "rows 2 and 4"]),
    ("date,sku,qty\n2024-01-01,A,3\n2024-01-02,A,-1\n", ["row 3", "-1 is negative"]),
    ("date,sku,qty\n2024-01-01,A,3\n2024-01-02,A,many\n", ["'many' is not a number"]),
    ("date,sku,qty\n2024-01-01,A,3\n2024-01-08,A,1\n2024-01-15,A,1\n", ["every 7 days", "weekly"]),
    ("date,sku,qty\n2024-01-01,A,3\n02.01.2024,A,1\n", ["mixed date formats", "row 3"]),
    ("date,sku,qty\n2024-01-01,A,3\n2024-01-02,A,3\n2024-01-05,A,1\n", ["no rows for 2024-01-03 .. 2024-01-04"]),
    ("date,sku,colour\n2024-01-01,A,red\n", ["no demand column found"]),
])
def test_each_layout_error_is_the_engine_s_message_on_upload_and_on_run(files, text, words):
    insp = P.inspect_upload(files, data_url(text.encode()), "bad.csv", 2**20)
    assert insp.summary is None
    for w in words:
        assert w in insp.problem, insp.problem
    with pytest.raises(P.PortfolioInputError) as err:
        P.read_dataset(files, insp.file_id, {**insp.mapping, "demand": insp.mapping["demand"] or "colour"}, False)
    assert "file bad.csv" in str(err.value)


def test_missing_dates_are_zero_demand_only_when_the_user_says_so(files):
    raw = b"date,sku,qty\n2024-01-01,A,3\n2024-01-02,A,3\n2024-01-05,A,1\n"
    insp = P.inspect_upload(files, data_url(raw), "gap.csv", 2**20)
    with pytest.raises(P.PortfolioInputError, match="2024-01-03 .. 2024-01-04"):
        P.read_dataset(files, insp.file_id, insp.mapping, False)
    assert P.read_dataset(files, insp.file_id, insp.mapping, True).get().demand.tolist() == [3, 3, 0, 0, 1]


@pytest.mark.parametrize("contents, words", [
    ("no comma here", "not a file upload"),
    ("data:text/csv;base64,@@@", "not valid base64"),
    ("data:text/csv;base64," + base64.b64encode(b"x" * 5000).decode(), "upload limit"),
    ("data:text/csv;base64," + base64.b64encode(b"date,qty\n\x00\x01\x02").decode(), "binary file"),
    ("data:text/csv;base64,", "empty"),
])
def test_a_refused_upload_keeps_nothing(files, contents, words):
    with pytest.raises(P.PortfolioInputError, match=words):
        P.inspect_upload(files, contents, "x.csv", 2048)


def test_a_mapping_is_checked_against_the_header():
    header = ["d", "s", "q", "p"]
    with pytest.raises(P.PortfolioInputError, match="mapped twice"):
        P.mapping_from_choices({"date": "d", "demand": "q", "price": "q"}, header)
    with pytest.raises(P.PortfolioInputError, match="Demand"):
        P.mapping_from_choices({"date": "d", "item": "s"}, header)
    with pytest.raises(P.PortfolioInputError, match="'zz' is not a column"):
        P.mapping_from_choices({"date": "d", "demand": "zz"}, header)
    m = P.mapping_from_choices({"date": "d", "item": "s", "demand": "q", "cost": None}, header)
    assert m.used() == {"date": "d", "item": "s", "demand": "q"} and m.unused == ["p"]


def test_a_forged_or_expired_file_id_is_refused(files):
    with pytest.raises(P.PortfolioInputError, match="upload a CSV first"):
        P.kept_file(files, "../../etc/passwd")
    with pytest.raises(P.PortfolioInputError, match="expired"):
        P.kept_file(files, "0" * 64)


def test_settings_from_the_form():
    s = P.settings_from_form(None, 20, 90, "fill-rate", 95)
    assert (s.lead_time, s.replications, s.days, s.target_fill_rate) == (None, 20, 90, 0.95)
    assert P.settings_from_form("3", "10", "30", "cost", "0.9").objective == "cost"
    with pytest.raises(P.PortfolioInputError, match="replications 1 is out of range"):
        P.settings_from_form(None, 1, 90, "fill-rate", 0.95)
    with pytest.raises(P.PortfolioInputError, match="lead time: 2.5 must be a whole number"):
        P.settings_from_form(2.5, 20, 90, "fill-rate", 0.95)
    with pytest.raises(P.PortfolioInputError, match="objective: choose least expected cost or least stock"):
        P.settings_from_form(None, 20, 90, "cheapest", 0.95)
    with pytest.raises(P.PortfolioInputError, match="days: a value is required"):
        P.settings_from_form(None, 20, None, "fill-rate", 0.95)


def test_the_cache_key_follows_file_mapping_missing_days_and_settings():
    m1 = P.mapping_from_choices({"date": "d", "item": "s", "demand": "q"}, ["d", "s", "q"])
    m2 = P.mapping_from_choices({"date": "d", "location": "s", "demand": "q"}, ["d", "s", "q"])
    s = PortfolioSettings(**SMALL)
    k = P.result_key("a" * 64, m1, False, s)
    assert P.valid_key(k) and k == P.result_key("a" * 64, m1, False, PortfolioSettings(**SMALL))
    others = {P.result_key("b" * 64, m1, False, s), P.result_key("a" * 64, m2, False, s),
              P.result_key("a" * 64, m1, True, s),
              P.result_key("a" * 64, m1, False, PortfolioSettings(**{**SMALL, "replications": 5}))}
    assert k not in others and len(others) == 4
    assert not P.valid_key("../x") and not P.valid_key(None)


def test_compute_gives_the_engine_s_records_with_totals_as_strict_json(files):
    import json

    insp = P.inspect_upload(files, data_url(german_csv()), "verkauf.csv", 2**20)
    ds = P.read_dataset(files, insp.file_id, insp.mapping, False)
    s = PortfolioSettings(**SMALL)
    seen = []
    result = P.compute(ds, s, "k" * 40, lambda done, total: seen.append((done, total)))
    assert seen[-1] == (2, 2)
    expected = run_portfolio(list(ds.series.values()), s)
    assert [r["series"] for r in result["records"]] == ["SKU_1/WH_1", "SKU_1/WH_2"]
    assert [r["order_up_to"] for r in result["records"]] == pytest.approx([r["order_up_to"] for r in expected])
    assert result["totals"]["series"] == 2 and result["mapping"]["date"] == "Datum"
    json.dumps(result, allow_nan=False)


def test_chunks_shrink_with_longer_runs_so_progress_keeps_coming():
    assert P.chunk_size(PortfolioSettings()) == P.CHUNK
    assert P.chunk_size(PortfolioSettings(replications=200, days=90)) == 5
    assert P.chunk_size(PortfolioSettings(replications=1000, days=3650)) == 1
    assert P.chunk_size(PortfolioSettings(replications=2, days=7)) == P.CHUNK


def test_the_simulator_link_opens_the_series_with_the_recommendation():
    from dashapp.pages.simulator.link import link_controls

    rec = {"series": "SKU 1/WH&2", "forecaster": "croston", "policy": "order-up-to", "lead_time": 75,
           "order_up_to": 12.3456, "relative_error_quantile": 1.234567, "days": 90}
    url = urlsplit(P.simulator_link(rec))
    assert url.path == "/"
    controls = link_controls(dict(parse_qsl(url.query)))
    assert controls == {"data_source": "upload", "series": "SKU 1/WH&2", "forecaster": "croston",
                        "lead_time": 60, "policy": "order-up-to", "param_safety_quantile": 1.2346, "horizon": 90}
    assert link_controls({"evil": "x", "lead_time": "abc", "series": "y" * 500}) == {}
    rq = {**rec, "policy": "r-Q", "reorder_point": 20.004, "order_quantity": 7.0, "lead_time": 3}
    controls = link_controls(dict(parse_qsl(urlsplit(P.simulator_link(rq)).query)))
    assert controls["policy"] == "r-Q" and controls["policy_s"] == 20 and controls["policy_q"] == 7
    assert "policy_level" not in controls and controls["lead_time"] == 3


def test_the_file_becomes_the_session_s_upload_on_the_simulator_page(files, tmp_path):
    from dashapp import engine_facade as E
    from dashapp.platform.session_ids import new_session_id
    from dashapp.ui.uploads import series_names

    store = make_kv(None, str(tmp_path / "sessions"), 600, prefix="s:")
    sid = new_session_id()
    insp = P.inspect_upload(files, data_url(german_csv()), "verkauf.csv", 2**20)
    ds = P.read_dataset(files, insp.file_id, insp.mapping, False)
    P.share_with_simulator(store, sid, ds)
    assert series_names(store, sid, "upload") == ["SKU_1/WH_1", "SKU_1/WH_2"]
    chosen = E.dataset_for(store, sid, {"data_source": "upload", "series": "SKU_1/WH_2"})
    assert np.array_equal(chosen.demand, ds.series["SKU_1/WH_2"].demand) and chosen.unit_price > chosen.unit_cost


def test_the_csv_export_is_formula_safe():
    rec = {c: 1.0 for c in P.records_csv.__globals__["RECORD_COLUMNS"]}
    rec.update(series="=HYPERLINK(\"x\")", **{"class": "smooth"}, forecaster="ses", policy="order-up-to")
    text = P.export_csv({"records": [rec]})
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "series" and not rows[1][0].startswith("=")


class _Pending:
    """A queued task no worker ever starts (one worker, busy with the dispatcher itself)."""

    def __init__(self, i):
        self.id, self.state, self.revoked = f"t{i}", "PENDING", False

    def ready(self):
        return False

    def revoke(self):
        self.revoked = True


class _Queue:
    def __init__(self):
        self.sent = []

        class Control:
            def revoke(inner, task_ids):  # noqa: N805 - a stand-in for celery_app.control
                self.revoked_ids = list(task_ids)
        self.control = Control()

    def send_task(self, name, args):
        assert name == "dashapp.portfolio_chunk"
        self.sent.append(args)
        t = _Pending(len(self.sent))
        self.sent[-1] = (args, t)
        return t


def test_the_dispatcher_runs_unstarted_chunks_itself_and_merges_in_file_order(files):
    from dashapp.platform.portfolio_workers import run_on_workers

    insp = P.inspect_upload(files, data_url(german_csv(series=5)), "verkauf.csv", 2**20)
    series = list(P.read_dataset(files, insp.file_id, insp.mapping, False).series.values())
    s = PortfolioSettings(**SMALL)
    q, seen, ids_ = _Queue(), [], []
    records = run_on_workers(q, series, s, lambda d, t: seen.append(d), chunk=2, submitted=ids_.extend)
    assert ids_ == ["t1", "t2", "t3"] and all(t.revoked for _, t in q.sent)
    assert len(q.sent[0][0][0]) == 2 and len(q.sent[0][0][0][0]["demand"]) == s.history_days  # only what is read
    assert seen == [1, 3, 5]  # the last chunk first (from the end), progress in series
    expected = run_portfolio(series, s)
    assert [r["series"] for r in records] == [r["series"] for r in expected]
    assert [r["expected_cost"] for r in records] == pytest.approx([r["expected_cost"] for r in expected])


def test_the_dispatcher_stops_and_revokes_the_rest_on_cancel(files):
    from dashapp.platform.portfolio_workers import run_on_workers
    from engine.studies.portfolio import PortfolioCancelled

    insp = P.inspect_upload(files, data_url(german_csv(series=3)), "verkauf.csv", 2**20)
    series = list(P.read_dataset(files, insp.file_id, insp.mapping, False).series.values())
    q = _Queue()
    with pytest.raises(PortfolioCancelled):
        run_on_workers(q, series, PortfolioSettings(**SMALL), lambda d, t: None, chunk=1, cancelled=lambda: True)
    assert q.revoked_ids == ["t1", "t2", "t3"]


def test_roles_are_the_engine_s():
    assert set(P.ROLE_LABELS) == set(ROLES)


def test_a_price_at_or_below_cost_is_said_on_upload_and_refused_at_run_before_any_job(files):
    """The margin check (engine.studies.portfolio.check_margins) runs on upload and in read_dataset (the Run button's
    check), naming the first series and how many more — not only once a job has started."""
    text = german_csv(series=3).decode().splitlines()
    head, rows = text[0], [r.split(",") for r in text[1:]]
    for r in rows:  # every row of the first article sells at cost
        if r[1] == rows[0][1]:
            r[4] = r[5]
    raw = "\n".join([head] + [",".join(r) for r in rows]).encode()
    insp = P.inspect_upload(files, data_url(raw), "verkauf.csv", 2**20)
    assert insp.summary is not None and insp.problem and "is not above unit cost" in insp.problem
    with pytest.raises(P.PortfolioInputError, match="is not above unit cost"):
        P.read_dataset(files, insp.file_id, insp.mapping, False)
    ok = P.inspect_upload(files, data_url(german_csv(series=3)), "ok.csv", 2**20)
    assert ok.problem is None and len(P.read_dataset(files, ok.file_id, ok.mapping, False).series) == 3


def test_the_page_and_the_job_compute_one_portfolio_key_when_the_browser_writes_0_0_as_0():
    from engine.data.layout import ColumnMapping

    s = PortfolioSettings(days=30, moq=0.0, order_cost=0.0, holding_rate=1.0).validate()
    through_browser = {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in s.to_dict().items()}
    again = P.settings_from_dict(through_browser)
    assert P.result_key("f", ColumnMapping(), False, s) == P.result_key("f", ColumnMapping(), False, again)


@pytest.mark.parametrize("forged", ["x", [1], {"file_id": None}, 7])
def test_a_forged_file_store_value_is_the_upload_message_not_a_traceback(forged):
    """pf-file.data is the browser's: a value that is not the upload's {file_id} gets "upload a daily CSV first"
    from both the run and the check against history (an AttributeError before)."""
    import dashapp.app  # noqa: F401 - registers the pages
    from dashapp.pages.portfolio import page as pf
    rest = [None] * len(pf.ROLES) + [False, 7, 20, 90, "cost", 0.95]
    run = pf.prepare(1, forged, *rest, "session", *([None] * len(pf.RULE_KEYS)))
    check = pf.prepare_check(1, forged, *rest, 1, *([None] * len(pf.RULE_KEYS)))
    for out in (run, check):
        assert "upload a daily CSV first" in str(out)
