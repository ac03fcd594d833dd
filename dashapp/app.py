"""The Dash application: multi-page shell, navigation, `server` for gunicorn (`dashapp.app:server`)."""
from __future__ import annotations

import logging

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp import ids
from dashapp.platform.config import REPO_ROOT, resolve_secret_key, settings
from dashapp.ui import components, jobs

log = logging.getLogger("dashapp")


def _callback_error(err: Exception):
    """Last line of defence: an unexpected error in any callback is logged and shown as a message in the
    page header — never an HTTP 500 or a traceback in the browser."""
    from dashapp.platform.store import StoreUnavailable

    if isinstance(err, StoreUnavailable):  # Redis down, disk full or read-only: say so, it is not a bug
        log.warning("session store unavailable: %s", err)
        text = f"Session store unavailable: {err}. Your session continues when it is back."
    else:
        log.exception("callback failed: %s", err)
        text = f"Something went wrong on the server ({type(err).__name__}); your session is unchanged."
    dash.set_props(ids.APP_MESSAGE, {"children": dbc.Alert(text, color="danger", dismissable=True, className="py-2")})
    return None  # every output: no update


app = dash.Dash(
    # The package name (not __name__): Dash then imports pages as dashapp.pages.X, the same modules a plain
    # `import dashapp.pages.X` gives, so a page importing another never registers it twice.
    "dashapp",
    use_pages=True,
    assets_folder=str(REPO_ROOT / "assets"),  # Bootstrap 5 CSS is served from here: no CDN needed
    title="Inventory Simulator",
    suppress_callback_exceptions=True,
    background_callback_manager=jobs.background_manager,
    update_title=None,
    on_error=_callback_error,
)
app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1)  # the page's language, for screen readers
server = app.server
server.secret_key = resolve_secret_key(settings)
server.config["MAX_CONTENT_LENGTH"] = settings.upload_max_bytes * 2  # base64 upload + JSON envelope

app.layout = html.Div([
    # The only thing the browser keeps: a random, signed session id (per tab: sessionStorage).
    dcc.Store(id=ids.SESSION_ID, storage_type="session"),
    components.skip_link(),  # the first Tab stop: past the navigation, straight to the page
    components.navbar(),
    # one main landmark around every page (screen readers jump to it; axe: landmark-one-main, region)
    html.Main(dbc.Container([html.Div(id=ids.APP_MESSAGE), dash.page_container], fluid=True), id=components.MAIN,
              tabIndex="-1"),  # focusable by the skip link only
])


@server.errorhandler(413)
def _too_large(_err):
    """A request body over the limit (e.g. a huge upload) gets a JSON message, not an HTML error page."""
    return {"message": f"request too large: the upload limit is {settings.upload_max_bytes // 2**20} MB"}, 413


@server.errorhandler(Exception)
def _unhandled(err):
    """Callback errors are handled by `_callback_error`; what reaches here is a malformed request (an unknown
    output, a body that is not a callback) — answered with a 400 JSON message, never an HTML 500 page."""
    from flask import request
    from werkzeug.exceptions import HTTPException

    if isinstance(err, HTTPException):
        return err
    log.warning("refused request to %s: %s: %s", request.path, type(err).__name__, str(err)[:200])
    if request.path.endswith("_dash-update-component"):
        return {"message": f"malformed callback request ({type(err).__name__})"}, 400
    return {"message": "the server could not handle this request"}, 500


def _set_up_before_serving() -> None:
    """Run Dash's first-request set-up now, in one thread, before any request can arrive.

    Dash sets an app up on a process's first request (a before_request hook registers the script bundles it may
    serve, copies the callbacks, adds the pages router's callback) and marks that done *before* doing it. Under
    gunicorn's threaded workers a second request arriving meanwhile skips the set-up and meets a half-built app:
    a renderer bundle answers 500 ("dash is not a registered library") or the callback list lacks the router,
    and the first browser after a start stays at "Loading...". With --preload this runs once in the master and
    every forked worker inherits the finished set-up; without it, each worker runs it while importing the app."""
    with server.test_request_context("/"):
        server.preprocess_request()


_set_up_before_serving()
