"""A Screen (dashapp.pages.simulator.service) turned into the simulator page's component properties, by name.

`VIEW` names every output a button or a tick may change; `render(screen)` returns a value (or no_update) for each
name, so the callbacks return dicts instead of positional lists.
"""
from __future__ import annotations

import json
from functools import lru_cache

from dash import Output, Patch, no_update
from plotly.utils import PlotlyJSONEncoder

from dashapp import ids
from dashapp.pages.simulator.service import FULL, MESSAGE, PATCH, STOP, Screen
from dashapp.pages.simulator.session_views import (
    MAX_LOG,
    RUN_NOTES,
    STATUS_TEXT,
    button_states,
    event_count,
    event_summary,
    kpi_values,
    latest_events,
    progress,
)
from dashapp.ui import components as C
from dashapp.ui import figures
from dashapp.ui.recommendation import cost_note_view


def _out(component: str, prop: str) -> Output:
    return Output(component, prop, allow_duplicate=True)


VIEW = {
    **{gid: _out(gid, "figure") for gid in ids.GRAPHS},
    **{kid: _out(kid, "children") for kid in ids.KPIS},
    **{ids.kpi_sub(kid): _out(ids.kpi_sub(kid), "children") for kid in ids.KPIS},
    "progress": _out(ids.PROGRESS, "value"), "progress_label": _out(ids.PROGRESS, "label"),
    "event_log": _out(ids.EVENT_LOG, "children"), "shown_day": _out(ids.SHOWN_DAY, "data"),
    "tick_disabled": _out(ids.TICK, "disabled"), "message": _out(ids.MESSAGE, "children"),
    "pause_label": _out(ids.PAUSE, "children"), "status": _out(ids.STATUS, "children"),
    **{f"{b}_disabled": _out(b, "disabled") for b in (ids.START, ids.PAUSE, ids.STEP, ids.RESET)},
    "run_note": _out(ids.RUN_NOTE, "children"), "event_summary": _out(ids.EVENT_SUMMARY, "children"),
    "cost_note": _out(ids.COST_NOTE, "children"),
}


def _unchanged() -> dict:
    return dict.fromkeys(VIEW, no_update)


def _log_children(entries):
    return [C.log_entry(text, kind) for text, kind in entries]


def _cards(rows, horizon) -> dict:
    kpis = kpi_values(rows, horizon)
    pct, label = progress(len(rows), horizon)
    out = {kid: kpis[kid][0] for kid in ids.KPIS}
    out.update({ids.kpi_sub(kid): kpis[kid][1] for kid in ids.KPIS}, progress=pct, progress_label=label,
               event_summary=event_summary(rows))
    return out


def _status(s: Screen) -> dict:
    out = {"pause_label": "Resume" if s.status == "paused" else "Pause", "status": STATUS_TEXT.get(s.status, "")}
    out.update({f"{b}_disabled": off for b, off in button_states(s.status, len(s.rows)).items()},
               run_note=RUN_NOTES.get(s.status, ""))
    return out


@lru_cache(maxsize=16)
def _empty_figure_json(graph_id: str) -> str:
    """The figure without rows, its x-axis range drawn for a 1-day horizon (figure_dict sets the run's)."""
    return json.dumps(figures.build_figure(graph_id, [], 1).to_plotly_json(), cls=PlotlyJSONEncoder)


def figure_dict(graph_id: str, rows, horizon: int | None) -> dict:
    """figures.build_figure(graph_id, rows, horizon) as the JSON dict Dash sends, without plotly's validation.

    Why: go.Figure validates every property it is given (~15 ms a figure, four per page load and per Start, the
    bulk of their CPU). The figure without rows is built once per graph by build_figure itself; only the x-axis
    range (figures._layout's, for the horizon) and the traces' x and y are filled in, from the same columns
    build_figure plots."""
    fig = json.loads(_empty_figure_json(graph_id))  # a fresh copy: the cached text is never shared
    xaxis = fig["layout"]["xaxis"]
    if horizon:
        xaxis["range"] = [0.5, horizon + 0.5]
    else:
        xaxis.pop("range", None)
    if rows:
        cols = figures.columns(rows)
        for trace, (_name, key, _kw) in zip(fig["data"], figures.TRACES[graph_id]):
            trace["x"], trace["y"] = cols["day"], cols[key]
    return fig


def _full(s: Screen) -> dict:
    """Everything redrawn from the run's rows (page load, Start, Step, Reset, Pause)."""
    out = {gid: figure_dict(gid, s.rows, s.horizon) for gid in ids.GRAPHS}
    out.update(_cards(s.rows, s.horizon))
    out.update(_status(s), event_log=_log_children(latest_events(s.rows)), shown_day={"run": s.run, "day": len(s.rows)},
               tick_disabled=s.status != "running", message=C.message(s.message, s.color),
               cost_note=_cost_note(s.costs))
    return out


def _cost_note(costs: dict | None):
    """Where the run's unit cost and price came from, beside the cost cards: an assumption names the fields that
    set them (dashapp.ui.recommendation.cost_note, the note the hint, /optimum and /portfolio show)."""
    if not costs:
        return None
    return cost_note_view(costs, ids.COST_NOTE + "-text", edit=ids.COST_FIELDS)


def _log_patch(rows, shown_day: int):
    """The event log after `shown_day`: new entries prepended, the list kept at MAX_LOG entries."""
    new = latest_events(rows[shown_day:], limit=10**9)
    if len(new) > MAX_LOG:
        return _log_children(latest_events(rows))
    log = Patch()
    for text, kind in reversed(new):
        log.prepend(C.log_entry(text, kind))
    total = min(MAX_LOG, event_count(rows, shown_day)) + len(new)
    for i in range(total - 1, MAX_LOG - 1, -1):
        del log[i]
    return log


def _patch(s: Screen) -> dict:
    """Only what changed since the day the page shows: new points by index, KPI texts, prepended log entries.

    While the run goes on, the status text and the Pause label are not re-sent: dash-renderer fires every
    callback listening to a returned property even when its value is the same, so re-sending the status on
    every tick would double the request rate (the improvement hint listens to it). Any other status is always
    sent, so a page that missed the end of its run (a lost response) still learns it."""
    out = _unchanged()
    out.update(figures.point_patches(s.rows, s.shown_day))
    out.update(_cards(s.rows, s.horizon))
    out.update(event_log=_log_patch(s.rows, s.shown_day), shown_day={"run": s.run, "day": len(s.rows)},
               tick_disabled=s.status != "running")
    if s.status_changed:
        out.update(_status(s))
    return out


def render(s: Screen) -> dict:
    """Every name of VIEW mapped to its new value (no_update where nothing changes)."""
    if s.kind == FULL:
        return _full(s)
    if s.kind == PATCH:
        return _patch(s)
    out = _unchanged()
    if s.kind in (MESSAGE, STOP):
        out["message"] = C.message(s.message, s.color)
    if s.kind == STOP:
        out["tick_disabled"] = True
    return out
