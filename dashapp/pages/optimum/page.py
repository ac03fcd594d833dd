"""/optimum: how far is a policy from the best possible, for one scenario.

(a) the perfect-information lower bound (an LP per demand path, HiGHS), (b) the original research notebook's
SAA order plan evaluated out of sample, (c) simulation-optimised base-stock level S and z of the order-up-to rule,
all on common random numbers. Runs as a background job (same managers as /scenarios); results cached by the
scenario's hash; `?set=TOKEN` (a one-scenario set, e.g. from a /scenarios result) pre-fills and shares it.
"""
from __future__ import annotations

import time

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html, no_update

from dashapp.pages.optimum.exact import exact_section
from dashapp.ui import scenario_figures as figs
from dashapp.ui.components import duration
from dashapp.ui.intervals import mean_ci, single_path
from dashapp.ui.job_pages import (
    JobWords,
    background_job,
    error_alert,
    job_stores,
    reattached_alert,
    register,
    run_and_cache,
    run_controls,
    running_status,
    submit,
)
from dashapp.ui.jobs import cancel_job, job_store
from dashapp.ui.recommendation import recommendation_view, two_worlds_sentence
from dashapp.ui.result_sentences import optimum_sentence, per_day
from dashapp.ui.scenario_table import scenario_grid, table_words
from dashapp.ui.tables import plain_columns, result_grid
from dashapp.ui.validation import (
    DEMAND_MODES,
    OBJECTIVE_OPTIONS,
    TARGET_LABEL,
    InputError,
    objective_choice,
    target_fill_rate,
)
from engine.data.dataset import DataError
from engine.errors import ConfigError
from engine.json_safe import json_safe
from engine.simulation.simulator import resolve_costs
from engine.studies import scenarios as sc

dash.register_page(__name__, path="/optimum", title="Optimum", name="Optimum")

KIND = "optimum"
WORDS = JobWords(prefix="opt", kind=KIND, noun="computation", button="Compute")
MAX_OPT_REPLICATIONS = 500


def _default_set() -> dict:
    row = sc.default_table_rows()[0]
    row["name"] = "Current scenario"
    return sc.rows_to_set([row], replications=100, days=90, seed=1)


def simulator_costs(sset: dict) -> dict | None:
    """The simulator's h and p for the scenario this page shows (engine.simulation.simulator.resolve_costs), with
    where they come from, for the exact section's cost fields; None when the scenario does not resolve."""
    try:
        config = sc.build_configs(sset, allow_files=False)[0]
        costs = resolve_costs(config, sc._load_series(config, {}, sc.DEFAULT_DATA))
    except (sc.ScenarioError, ConfigError, DataError, OSError):
        return None
    lost = "price − cost" if config.stockout_cost is None else "the stockout cost set"
    if config.backorders:
        lost = "the backorder cost per unit per day"
    return {**costs, "source": f"the simulator's costs for this scenario — h = holding rate {config.holding_rate:g} "
                               f"× unit cost {costs['unit_cost']:g} / 365 = {costs['h']:.6f} per unit per day, "
                               f"p = {lost} = {costs['p']:g} per unit short."}


def scenario_lead_time_dist(sset: dict) -> str | None:
    """The random lead time of the scenario this page shows ('poisson:5', 'uniform:4:10'), None when it is fixed
    or the scenario does not resolve: the exact section says it cannot certify that scenario."""
    try:
        d = sc.build_configs(sset, allow_files=False)[0].lead_time_dist
    except (sc.ScenarioError, ConfigError, DataError, OSError):
        return None
    if not d:
        return None
    return f"uniform:{d['low']:g}:{d['high']:g}" if d["kind"] == "uniform" else f"poisson:{d['mean']:g}"


def objective_of(objective, target) -> dict:
    """{"objective", "target_fill_rate"} of the recommendation, checked (the browser sends both): the same choice
    /portfolio offers, so the recommendation here is the one /portfolio gives for these settings."""
    try:
        return {"objective": objective_choice(objective), "target_fill_rate": target_fill_rate(target)}
    except InputError as err:
        raise sc.ScenarioError(str(err)) from None


def goal_of_request(request: dict) -> dict:
    """The objective a job request carries (prepare put it there), checked again: it came through the browser."""
    return objective_of(request.get("objective", "cost"), request.get("target_fill_rate", 0.95))


def _result_key(sset: dict, goal: dict) -> str:
    """The cache key: the scenario and, under the fill-rate objective, its target (cost ignores the target)."""
    extra = {"kind": KIND}
    if goal["objective"] != "cost":
        extra.update(goal)
    return sc.result_key(sset, extra)


def layout(set: str | None = None, objective: str | None = None, target: str | None = None,  # noqa: A002
           **_query):  # the query parameter is called "set"
    message = None
    sset = _default_set()
    try:
        goal = objective_of(objective or "cost", 0.95 if target in (None, "") else target)
    except sc.ScenarioError as err:
        goal = objective_of("cost", 0.95)
        message = dbc.Alert(table_words(str(err)), color="danger")
    result = None
    reattach = None
    status = None
    if set:
        try:
            sset = sc.decode_set(set)
            sset = {**sset, "scenarios": sset["scenarios"][:1], "baseline": 0}
            key = _result_key(sset, goal)
            result = job_store().get_result(KIND, key)
            status = None if result is not None else running_status(KIND, key)
            if status:
                reattach = key
                message = reattached_alert(WORDS, status, "A computation for this scenario")
        except sc.ScenarioError as err:
            message = dbc.Alert(table_words(str(err)), color="danger")
        except Exception as err:
            message = dbc.Alert(f"The job store is unavailable ({type(err).__name__}).", color="warning")
    rows = sc.set_to_rows(sset)
    run_button, cancel_button, progress_bar = run_controls(WORDS, status if reattach else None)
    return html.Div([
        *job_stores(WORDS, reattach, result=result),
        html.H1("How far from the optimum?", className="h3"),
        exact_section(simulator_costs(sset), scenario_lead_time_dist(sset)),
        html.Hr(),
        html.H2("This scenario (non-stationary demand): best policies found by simulation, chosen out of sample",
                className="h4"),
        html.P([
            "For one scenario: the ", html.B("perfect-information lower bound"), " (an LP per demand path that "
            "knows the future — no real policy can beat it, and it is loose by design: the gap is the value of "
            "information), the ", html.B("SAA order plan"), " of the original research notebook (one plan fixed in "
            "advance, evaluated on fresh paths), and the ", html.B("simulation-optimised"), " base-stock level S and "
            "z of the order-up-to rule, all on the same demand paths. Every policy starts from the same on-hand "
            "stock (the order-up-to rule's day-1 level), so one bound applies to all."], className="small text-muted"),
        scenario_grid("opt-table", rows),
        dbc.Row([
            dbc.Col([dbc.Label("Replications", html_for="opt-replications", className="small mb-0"),
                     dbc.Input(id="opt-replications", type="number", step="any",
                               value=sset["replications"], size="sm")], xs=6, md=2),
            dbc.Col([dbc.Label("Days", html_for="opt-days", className="small mb-0"),
                     dbc.Input(id="opt-days", type="number", step="any",
                               value=sset["days"] or 90, size="sm")], xs=6, md=2),
            dbc.Col([dbc.Label("Seed", html_for="opt-seed", className="small mb-0"),
                     dbc.Input(id="opt-seed", type="number", step="any", value=sset["seed"], size="sm")],
                    xs=6, md=2),
            dbc.Col([dbc.Label("Recommendation's objective", html_for="opt-objective", className="small mb-0"),
                     dbc.Select(id="opt-objective", options=OBJECTIVE_OPTIONS, value=goal["objective"], size="sm")],
                    xs=12, md=3),
            dbc.Col([dbc.Label(TARGET_LABEL, html_for="opt-target", className="small mb-0"),
                     dbc.Input(id="opt-target", type="number", step="any", value=goal["target_fill_rate"],
                               size="sm")], xs=6, md=2),
            dbc.Col(run_button, width="auto"),
            dbc.Col(cancel_button, width="auto"),
            dbc.Col(progress_bar, xs=12, md=True),
        ], className="g-2 align-items-end my-2"),
        html.Div(message, id="opt-status"),
        html.Hr(),
        html.Div(id="opt-results", children=_render(result)),
    ])


def _render(rep: dict | None):
    if not rep:
        return html.Div("No results yet.", className="text-muted", id="opt-empty")
    lb = rep["lower_bound"]
    days = rep.get("days")
    one_path = single_path(paths=rep.get("replications"))
    unit = f"currency, total over {days} days"
    cards = dbc.Row([
        _card(f"Perfect-information bound ({unit})",
              mean_ci(f"{lb['mean']:,.2f}", lb["ci95"], one_path), "opt-bound"),
        _card(f"Best base-stock S (units) → mean cost ({unit})",
              f"S = {rep['best_base_stock']['level']:,.1f} units → {per_day(rep['best_base_stock']['cost'], days)}",
              "opt-best-s"),
        _card(f"Best z of the order-up-to rule → mean cost ({unit})",
              f"z = {rep['best_z']['z']:.2f} → {per_day(rep['best_z']['cost'], days)}", "opt-best-z"),
        _card(f"SAA plan, out of sample ({unit})", "n/a (stochastic lead times)" if not rep.get("saa") else
              f"{rep['saa']['cost_out_of_sample']:,.2f} (in sample {rep['saa']['cost_in_sample']:,.2f})", "opt-saa"),
    ], className="g-2 mb-2")
    rows = [{"policy": p["name"], "cost": mean_ci(f"{p['cost']:,.2f}", p.get("ci95"), one_path),
             "regret": "n/a" if p["regret"] is None else f"{100 * p['regret']:.1f}%",
             "gap": "n/a" if p.get("gap_vs_best_base_stock") is None else f"{100 * p['gap_vs_best_base_stock']:+.1f}%"}
            for p in rep["policies"]]
    marks = [{"name": p["name"], "level": p.get("level"), "cost": p["cost"]} for p in rep["policies"]]
    policies = [p for p in rep["policies"] if p["regret"] is not None]
    rec = rep.get("recommendation")
    return html.Div([
        *([dbc.Alert([recommendation_view(rec, "opt-recommendation"),
                      html.Div(two_worlds_sentence(rec, DEMAND_MODES.get(rep.get("demand_mode"), "as set"),
                                                   rep["replications"], rep["initial_inventory"]),
                               className="small mt-1", id="opt-two-worlds")],
                     color="primary", className="py-2 mb-2")] if rec else []),
        html.P(optimum_sentence(rep), className="mb-2", id="opt-sentence"),
        dbc.Alert(["One path: the file's history replayed once, so these costs have no interval and the levels "
                   "are tuned on the days before it. For promised against realised service over many windows of "
                   "real demand, use the rolling-origin backtest: ", html.A("Portfolio → Check against history",
                                                                            href="/portfolio"),
                   " (or python -m engine backtest-policy)."], color="info", className="py-2 mb-2",
                  id="opt-one-path") if one_path else None,
        html.Div(f"{'one path (the history replayed)' if one_path else str(rep['replications']) + ' paths'} × "
                 f"{rep['days']} days; h = {rep['costs']['h']:.4f}/unit/day, "
                 f"p = {rep['costs']['p']:.2f}/unit; start stock {rep['initial_inventory']:,.1f}; "
                 f"{rep.get('batch_runs', 0)} batch runs in {duration(rep.get('elapsed_s', 0))}.",
                 className="small text-muted", id="opt-summary"),
        cards,
        result_grid("opt-policies", rows, plain_columns([
            ("policy", "Policy"), ("cost", "Mean total cost ± 95% CI (currency)"),
            ("regret", "Regret vs best found out of sample"), ("gap", "Gap vs best base-stock")])),
        dbc.Row([
            dbc.Col(dcc.Graph(id="opt-graph-curve", figure=figs.cost_curve_figure(rep["curve"], lb["mean"], marks)),
                    md=6),
            dbc.Col(dcc.Graph(id="opt-graph-regret", figure=figs.regret_figure(policies)), md=6),
            dbc.Col(dcc.Graph(id="opt-graph-z", figure=figs.z_curve_figure(
                rep.get("z_curve", {}), rep["policies"][0].get("z"))), md=6),
        ]),
    ])


def _card(title, value, id_):
    return dbc.Col(dbc.Card(dbc.CardBody([html.Div(title, className="kpi-title"),
                                          html.Div(value, id=id_, className="kpi-value kpi-wrap")])), md=6, xl=3)


@callback(
    Output("opt-request", "data"),
    Output("opt-result", "data", allow_duplicate=True),
    Output("opt-status", "children", allow_duplicate=True),
    Output("opt-search", "data"),
    Input("opt-run", "n_clicks"),
    State("opt-table", "rowData"), State("opt-replications", "value"), State("opt-days", "value"),
    State("opt-seed", "value"), State("opt-objective", "value"), State("opt-target", "value"),
    prevent_initial_call=True,
)
def prepare(_n, rows, replications, days, seed, objective="cost", target=0.95):
    try:
        if replications is None or not 2 <= int(replications) <= MAX_OPT_REPLICATIONS:
            raise sc.ScenarioError(f"replications must be between 2 and {MAX_OPT_REPLICATIONS}, got {replications!r}")
        sset = sc.rows_to_set((rows or [])[:1], replications=replications, days=days, seed=seed)
        sc.check_set(sset)
        goal = objective_of(objective, target)
    except (sc.ScenarioError, ValueError, TypeError) as err:
        return no_update, no_update, error_alert(WORDS, table_words(str(err))), no_update
    key = _result_key(sset, goal)
    search = f"?set={sc.encode_set(sset)}" + (
        "" if goal["objective"] == "cost" else f"&objective={goal['objective']}&target={goal['target_fill_rate']:g}")
    try:
        cached = job_store().get_result(KIND, key)
    except Exception as err:
        return no_update, no_update, dbc.Alert(f"The job store is unavailable: {err}", color="warning"), search
    if cached is not None:
        return (no_update, cached, dbc.Alert("Served from the result cache.", color="success", id="opt-cached"),
                search)
    submit(WORDS, key)
    return {"set": sset, "key": key, "submitted": time.time(), **goal}, no_update, None, search


@background_job(WORDS)
def run_job(set_progress, request):
    """The background job: the optimum report of the first scenario, with progress and a heartbeat, cached."""
    if not request:
        raise dash.exceptions.PreventUpdate
    from engine.studies.optimum import optimum_report

    try:
        sset, _ = sc.revalidate(request)  # the request came through the browser: check it again
        sset = {**sset, "scenarios": sset["scenarios"][:1], "baseline": 0}
        if not 2 <= sset["replications"] <= MAX_OPT_REPLICATIONS:
            raise sc.ScenarioError(f"replications must be between 2 and {MAX_OPT_REPLICATIONS}")
        goal = goal_of_request(request)
    except (sc.ScenarioError, ValueError, TypeError) as err:
        return no_update, error_alert(WORDS, table_words(str(err)))

    def compute(progress):
        config = sc.build_configs(sset, allow_files=False)[0]
        files: dict = {}
        series = sc._load_series(config, files, sc.DEFAULT_DATA)
        # the file's series: the fill-rate objective's out-of-time correction, as /portfolio and the CLI make it
        return json_safe(optimum_report(config, series, sset["replications"], progress=progress,
                                        file_series=list(next(iter(files.values())).series.values()), **goal))

    return run_and_cache(WORDS, _result_key(sset, goal), set_progress, compute)


@callback(Output("opt-status", "children", allow_duplicate=True), Input("opt-cancel", "n_clicks"),
          State("opt-request", "data"), prevent_initial_call=True)
def cancelled(_n, request):
    try:
        sset, _ = sc.revalidate(request)
        sset = {**sset, "scenarios": sset["scenarios"][:1], "baseline": 0}
        key = _result_key(sset, goal_of_request(request))
        cancel_job(KIND, key)  # besides Dash's cancel, which needs the page's job id
    except Exception:  # nothing valid to clear (or the store is down): the job itself is stopped by Dash
        pass
    return dbc.Alert("Computation cancelled.", color="warning", id="opt-cancelled")


@callback(Output("opt-results", "children"), Input("opt-result", "data"), prevent_initial_call=True)
def show(rep):
    return _render(rep)


register(WORDS)  # the reattach poll and the address-bar write (dashapp/ui/job_pages.py)
