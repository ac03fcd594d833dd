"""The web worker's start-up hook (dashapp.gunicorn_hooks): it prepares the page's default runs (dashapp.warmup), so a
first Start does not load the forecaster and compute its context errors; a failure is logged and never stops the
worker."""
from __future__ import annotations

from dashapp import engine_facade as E
from dashapp import gunicorn_hooks


class Log:
    def __init__(self):
        self.lines = []

    def info(self, fmt, *args):
        self.lines.append(("info", fmt % args))

    def warning(self, fmt, *args):
        self.lines.append(("warning", fmt % args))


class Worker:
    def __init__(self, age=1):
        self.log = Log()
        self.age = age


def test_the_hook_prepares_the_default_run_so_the_next_build_reuses_it(tmp_path, monkeypatch):
    from engine.protection import prior as PP

    monkeypatch.setattr(PP, "_disk", None)
    PP.use_prior_store(tmp_path / "priors")
    w = Worker()
    gunicorn_hooks.post_worker_init(w)
    assert len(w.log.lines) == 1 and w.log.lines[0][0] == "info", w.log.lines
    assert w.log.lines[0][1].startswith("prepared before serving: runs ") and "simulator views" in w.log.lines[0][1]
    forecaster = E.registry.get_forecaster(E.new_controls()["forecaster"])
    cached = len(forecaster.__dict__.get("_window_errors_cache") or {})
    E.build_simulator(None, "", E.new_controls())  # what a first Start with the page's defaults builds
    assert len(forecaster.__dict__.get("_window_errors_cache") or {}) == cached >= 1


def test_a_failing_warm_up_is_logged_and_the_worker_goes_on(monkeypatch):
    def broken(first=0):
        raise OSError("models folder unreadable")
    monkeypatch.setattr(E, "warm_default_run", broken)
    w = Worker()
    gunicorn_hooks.post_worker_init(w)
    assert w.log.lines == [("warning", "nothing prepared before serving: models folder unreadable")]
