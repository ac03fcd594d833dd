"""The /scenarios page's results: summary line, KPI table, links to /optimum per scenario, CSV button, four
figures (dashapp.ui.scenario_figures). Kept out of the page module because Dash imports pages itself."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.ui import scenario_figures as figs
from dashapp.ui.components import duration
from dashapp.ui.recommendation import cost_note, is_assumed
from dashapp.ui.result_sentences import not_significant, scenarios_sentence
from dashapp.ui.tables import result_grid
from engine.studies import scenarios as sc


def render_results(result: dict | None):
    if not result:
        return html.Div("No results yet.", className="text-muted", id="sc-empty")
    return html.Div([
        dbc.Alert(scenarios_sentence(result), color="primary", className="py-2 mb-2 lead-sentence",
                  id="sc-sentence"),
        html.Div(f"{result['replications']} replications × {result['days']} days, seed {result['seed']}; "
                 f"mean ± 95% CI half-width; costs in currency, totals over the {result['days']} days; "
                 f"run took {duration(result.get('elapsed_s', 0))}.",
                 className="small text-muted", id="sc-result-summary"),
        _crn_note(result),
        _cost_notes(result),
        kpi_grid(result),
        html.Div([html.Span("How far from the optimum: ", className="small")] + _optimum_links(result),
                 id="sc-optimum-links", className="my-1"),
        dbc.Button("Download CSV (settings and KPIs)", id="sc-download-btn", size="sm", color="secondary",
                   className="my-2"),
        dcc.Download(id="sc-download"),
        dbc.Row([
            dbc.Col(dcc.Graph(id="sc-graph-diff", figure=figs.paired_difference_figure(result)), md=6),
            dbc.Col(dcc.Graph(id="sc-graph-breakdown", figure=figs.cost_breakdown_figure(result)), md=6),
            dbc.Col(dcc.Graph(id="sc-graph-distribution", figure=figs.cost_distribution_figure(result)), md=6),
            dbc.Col(dcc.Graph(id="sc-graph-traces", figure=figs.inventory_traces_figure(result)), md=6),
        ]),
    ])


def kpi_grid(result: dict):
    """The KPI table as an AG Grid: the scenario name pinned left, the Δ-vs-baseline column right after it,
    a difference whose 95 % CI spans 0 marked "not significant", tooltips naming what each column is."""
    rows = figs.kpi_table_rows(result)
    base = result.get("baseline_name", "baseline")
    for row, scen in zip(rows, result.get("scenarios", [])):
        diff = scen.get("diff_vs_baseline", {}).get("total_cost")
        if scen.get("name") == base:
            row["diff_total_cost"] = f"{row.get('diff_total_cost', '')} (baseline)".strip()
        elif not_significant(diff) and row.get("diff_total_cost"):
            row["diff_total_cost"] += " (not significant)"
    cols = [{"field": "scenario", "headerName": "Scenario", "pinned": "left", "minWidth": 150,
             "headerTooltip": "Scenario name (the table above)"},
            {"field": "diff_total_cost", "headerName": f"Δ total cost vs {base}", "minWidth": 230,
             "headerTooltip": "Paired difference of mean total cost against the baseline, ± 95% CI half-width; "
                              "\"not significant\" when that interval contains 0",
             "tooltipField": "diff_total_cost",
             "cellClassRules": {"not-significant": "params.value && params.value.includes('not significant')"}}]
    cols += [{"field": k, "headerName": v, "minWidth": 140, "tooltipField": k,
              "headerTooltip": f"{v}: mean ± 95% CI half-width over the replications"}
             for k, v in figs.KPI_LABELS.items() if rows and k in rows[0]]
    return result_grid("sc-kpi-table", rows, cols, enableCellTextSelection=True)


COST_COLUMNS = "the Unit cost and Unit price columns of the table above"


def _cost_notes(result: dict):
    """Where each scenario's unit cost and price came from, beside the KPI table whose costs they drive: one note
    when every scenario ran on the same costs, else one per scenario (dashapp.ui.recommendation.cost_note, the note
    the simulator, /optimum and /portfolio show). Nothing for a stored result without its resolved costs."""
    groups: dict = {}
    for s in result.get("scenarios", []):
        costs = (s.get("info") or {}).get("costs")
        if not costs:
            return None
        key = tuple(sorted((k, str(v)) for k, v in costs.items()))
        groups.setdefault(key, (costs, []))[1].append(s["name"])
    if not groups:
        return None
    if len(groups) == 1:
        costs, _ = next(iter(groups.values()))
        items = [cost_note(costs, COST_COLUMNS)]
    else:
        items = [f"{', '.join(names)}: {cost_note(costs, COST_COLUMNS)}" for costs, names in groups.values()]
    assumed = any(is_assumed(costs) for costs, _ in groups.values())
    return html.Div([html.Div(text) for text in items], id="sc-cost-note",
                    className="small cost-note " + ("text-warning-emphasis" if assumed else "text-muted"))


def _crn_note(result: dict):
    """Say whether every scenario faced the baseline's demand paths (common random numbers)."""
    other = [s["name"] for s in result.get("scenarios", []) if not s.get("same_demand_as_baseline", True)]
    if not other:
        return html.Div("Every scenario faced the same demand paths as the baseline (checked per replication).",
                        className="small text-success", id="sc-crn-note")
    return html.Div(f"Different demand than the baseline (other demand settings, or forecast-noise demand driven by "
                    f"another forecaster): {', '.join(other)} — their differences are still paired by seed but "
                    "include the demand change.", className="small text-warning", id="sc-crn-note")


def _optimum_links(result: dict) -> list:
    """One /optimum link per scenario (a one-scenario set with this run's days and seed)."""
    links = []
    for i, s in enumerate(result.get("scenarios", [])):
        try:
            one = sc.canonical_set([{"name": s["name"], **s.get("options", {})}],
                                   replications=max(2, min(result["replications"], 500)), days=result["days"],
                                   seed=result["seed"])
        except sc.ScenarioError:
            continue
        links += [" · " if links else "", dcc.Link(s["name"], href=f"/optimum?set={sc.encode_set(one)}",
                                                  className="small", id={"type": "sc-optimum-link", "index": i})]
    return links
