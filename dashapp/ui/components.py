"""Reusable layout pieces: navigation, KPI cards, control inputs, event-log entries, messages."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.ids import kpi_sub

NAV_LINKS = [
    ("Simulator", "/"),
    ("Forecasts", "/forecasts"),
    ("Scenarios", "/scenarios"),
    ("Optimum", "/optimum"),
    ("Portfolio", "/portfolio"),
    ("Orders", "/orders"),
    ("About", "/about"),
]

KPI_TITLES = {
    "kpi-day": "Day",
    "kpi-on-hand": "On-hand",
    "kpi-on-order": "On order",
    "kpi-cost": "Cumulative cost",
    "kpi-fill-rate": "Fill rate",
    "kpi-order": "Today's order",
}


MAIN = "main"  # the one <main> landmark around every page (dashapp.app)


def skip_link() -> html.A:
    """"Skip to the page": the first Tab stop, shown only while it has keyboard focus (WCAG 2.4.1 bypass blocks)."""
    return html.A("Skip to the page", href=f"#{MAIN}", id="skip-link", className="visually-hidden-focusable skip-link")


def navbar() -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(label, href=path, active="exact", id=f"nav-{label.lower()}"))
             for label, path in NAV_LINKS]
    return dbc.Navbar(
        dbc.Container([
            dbc.NavbarBrand("Inventory Simulator", href="/"),
            dbc.Nav(links, navbar=True, className="ms-auto"),
        ], fluid=True),
        color="dark", dark=True, className="mb-3",
    )


def kpi_card(kpi_id: str) -> dbc.Card:
    return dbc.Card(
        dbc.CardBody([
            html.Div(KPI_TITLES[kpi_id], className="kpi-title"),
            html.Div("–", id=kpi_id, className="kpi-value"),
            html.Div("", id=kpi_sub(kpi_id), className="kpi-sub"),
        ]),
        className="kpi-card h-100",
    )


def field(label: str, control, help_text: str | None = None, hidden_id: str | None = None) -> html.Div:
    first = control[0] if isinstance(control, list) else control
    children = [dbc.Label(label, html_for=getattr(first, "id", None), className="mb-0 small"),
                *(control if isinstance(control, list) else [control])]
    if help_text:
        children.append(dbc.FormText(help_text))
    kwargs = {"id": hidden_id} if hidden_id else {}
    return html.Div(children, className="mb-2", **kwargs)


def number(id_: str, value) -> dbc.Input:
    """A number field without HTML min/max/step: the browser would hand dash a blank for a value outside them, and
    the server could only say "a value is required" for what was typed. Say the range in the label; the server's
    check (dashapp.ui.validation) names it when a value is outside."""
    return dbc.Input(id=id_, type="number", value=value, step="any", size="sm", debounce=True)


def checked_number(id_: str, value, range_text: str) -> list:
    """A number field with its allowed range beside it; a clientside check sets `invalid` as the user types
    (dashapp.ui.field_rules). No HTML min/max/step: out-of-range values must reach the check, not vanish."""
    return [dbc.Input(id=id_, type="number", value=value, step="any", size="sm", debounce=False),
            dbc.FormFeedback(f"Allowed: {range_text}", id=f"{id_}-invalid", type="invalid"),
            dbc.FormText(range_text, id=f"{id_}-range", className="field-range")]


def dropdown(id_: str, options, value, clearable: bool = False) -> dcc.Dropdown:
    return dcc.Dropdown(id=id_, options=options, value=value, clearable=clearable, className="dropdown-sm")


def log_entry(text: str, kind: str) -> html.Div:
    return html.Div(text, className=f"log-entry log-{kind}")


def duration(seconds) -> str:
    """A computation's time for a page: one decimal, and "under 0.1 s" rather than a "0.0 s" that reads as nothing
    having run (a small file's portfolio takes ~0.04 s)."""
    x = float(seconds or 0.0)
    return "under 0.1 s" if x < 0.05 else f"{x:,.1f} s"


def message(text: str | None, color: str = "danger"):
    """An alert for the page (None hides it)."""
    if not text:
        return None
    return dbc.Alert(text, color=color, className="py-2 mb-2", dismissable=True)


def upload_status(status_id: str, upload_id: str, class_name: str = "small mt-1") -> html.Div:
    """The message line under a dcc.Upload. Its data attributes let assets/upload_limit.js refuse a file over the
    upload limit in the browser, with a message here: dcc.Upload's max_size otherwise drops such a file without
    calling back (plotly/dash#2638), and the page says nothing. The server checks the size again."""
    from dashapp.platform.config import settings
    return html.Div(id=status_id, className=class_name, role="status",
                    **{"data-max-bytes": str(settings.upload_max_bytes), "data-upload-for": upload_id})
