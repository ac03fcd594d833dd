"""What a web worker does once before it serves (dashapp.gunicorn_hooks): the work a process otherwise does on its
first requests only.

Why: measured per fresh worker, the first page load built the simulator's ~150 components (~100 ms), its first
figures paid for plotly's lazily loaded validators (~75 ms per kind of view), the forecaster list loaded every
served model (~50 ms) and the first Start in a simulated demand mode built its protection prior (~1 s). Thirty
planners opening the app together met all of that at once on two cores. Each step here is the same code a request
runs, on the bundled data; nothing is kept but what those caches keep anyway.
"""
from __future__ import annotations

import tempfile
import time

import dash
from plotly.io.json import to_json_plotly

from dashapp import engine_facade as E
from dashapp.platform.store import DiskSessionStore


def warm_worker(first: int = 0) -> dict[str, float]:
    """Seconds each step took: the default runs (E.warm_default_run, starting at the `first`-th), the pages'
    layouts, the simulator's views of a short run, the forecaster choices."""
    took = {}
    for name, step in (("runs", lambda: E.warm_default_run(first)), ("pages", warm_pages),
                       ("simulator views", warm_simulator_views), ("forecaster choices", warm_forecaster_choices)):
        t0 = time.perf_counter()
        step()
        took[name] = time.perf_counter() - t0
    return took


def warm_pages() -> None:
    """Each registered page's layout, as the pages router builds it for a plain visit, encoded as a response is."""
    import dashapp.app  # noqa: F401 - the pages register with the app
    for page in dash.page_registry.values():
        layout = page.get("layout")
        to_json_plotly(layout() if callable(layout) else layout)


def warm_simulator_views() -> None:
    """Load, Start, two ticks and Pause of the page's default run in a throw-away session store, each screen
    rendered and encoded as the simulator's callbacks do."""
    from dashapp.pages.simulator.page import render
    from dashapp.pages.simulator.service import SimulationService

    with tempfile.TemporaryDirectory(prefix="warm-sessions-") as folder:
        service = SimulationService(DiskSessionStore(folder, 2**26, ttl=60))
        screen = service.press(None, "load", {})
        to_json_plotly(render(screen))
        raw = E.new_controls()
        for action in ("start", "tick", "tick", "pause"):
            if action == "tick":
                rec = service.store.get(screen.sid)
                screen = service.tick(screen.sid, {"run": rec["run"], "day": int(rec.get("days") or 0)}, 0.01)
            else:
                screen = service.press(screen.sid, action, raw)
            to_json_plotly(render(screen))


def warm_forecaster_choices() -> None:
    E.forecaster_options_for(E.dataset_for(None, "", E.new_controls()))
