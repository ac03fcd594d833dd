"""Pace of a run as a user sees it: headless Chromium opens the simulator, sets a 60-day horizon and a speed,
presses Start and records (in the page, with performance.now) when each day appears in the Day card.

    python -m bench.pace [--url http://127.0.0.1:8050] [--days 60] [--speeds 0.3 0.05] [--repeat 2] [--json]

Without --url it starts the Procfile's web server line (gunicorn --preload, 2 workers × 4 threads) on a free
loopback port with a throw-away var directory. Figures per run: wall time from the Start click to the last day
shown, against speed × days (the ratio is the goal's figure: within 10 %), and the mean period between days 1
and N. The machine's load average is printed beside them: the browser, the server and other jobs share the cores.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from bench.browser import make_browser, set_input, wait_until
from bench.dash_client import require_loopback

# Records [performance.now(), day] each time the Day card's text changes; the Start click's time is set by the
# same script that clicks, so both ends are on the page's own clock.
_OBSERVE = """
window.__pace = {click: null, days: []};
const card = document.getElementById('kpi-day');
new MutationObserver(() => {
  const m = /Day (\\d+)/.exec(card.textContent);
  if (m) window.__pace.days.push([performance.now(), parseInt(m[1])]);
}).observe(card, {childList: true, subtree: true, characterData: true});
"""
_CLICK = "window.__pace.click = performance.now(); document.getElementById('start').click();"


def procfile_server():
    """The Procfile's web line (preload, 2 workers × 4 threads, timeout 60) via bench.app_server."""
    from bench.app_server import AppServer

    return AppServer(None, workers=2, preload=True, args=["--threads", "4"]).start()


def one_run(driver, url: str, speed: float, days: int) -> dict:
    """A fresh tab state (new session), one run of `days` days at `speed` s/day; the page's own timings."""
    driver.get(url + "/")
    driver.execute_script("sessionStorage.clear();")
    driver.get(url + "/")
    wait_until(lambda: "Day 0 of" in driver.find_element("id", "kpi-day").text, 60, what="the simulator page")
    set_input(driver, "horizon", days)
    set_input(driver, "speed", speed)
    driver.execute_script(_OBSERVE)
    driver.execute_script(_CLICK)
    wait_until(lambda: f"Day {days} of" in driver.find_element("id", "kpi-day").text, speed * days * 3 + 30,
               what=f"day {days}")
    pace = driver.execute_script("return window.__pace;")
    first = {}
    for t, d in pace["days"]:
        first.setdefault(int(d), t)
    seen = sorted(d for d in first if d > 0)
    click, t_last = pace["click"], first[days]
    wall = (t_last - click) / 1000
    target = speed * days
    return {"speed": speed, "days": days, "wall_s": round(wall, 3), "target_s": round(target, 3),
            "ratio": round(wall / target, 3),
            "first_day_s": round((first[seen[0]] - click) / 1000, 3) if seen else None,
            "period_s": round((t_last - first[seen[0]]) / 1000 / max(1, days - seen[0]), 4) if seen else None,
            "card_updates": len(seen), "loadavg_1min": round(os.getloadavg()[0], 2)}


def run(url: str | None = None, speeds=(0.3, 0.05), days: int = 60, repeat: int = 2) -> dict:
    server = None
    try:
        if url is None:
            server = procfile_server()
            url = server.url
        url = require_loopback(url)
        driver = make_browser("1440,1000", page_load_timeout=60)
        try:
            runs = [one_run(driver, url, s, days) for s in speeds for _ in range(repeat)]
        finally:
            driver.quit()
    finally:
        if server is not None:
            server.stop()
    return {"url": url, "server": "Procfile web line (spawned)" if server else "given --url", "runs": runs}


def format_text(r: dict) -> str:
    lines = [f"pace: headless Chromium against {r['url']} ({r['server']}); wall = Start click to the last day shown"]
    for x in r["runs"]:
        lines.append(f"  {x['days']} days at {x['speed']:g} s/day: wall {x['wall_s']:.2f} s vs {x['target_s']:.2f} s "
                     f"(ratio {x['ratio']:.3f}); day 1 after {x['first_day_s']} s, then {x['period_s']} s/day; "
                     f"{x['card_updates']} card updates; load average {x['loadavg_1min']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pace", description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=None, help="a running app (loopback); default: spawn the Procfile's server")
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--speeds", type=float, nargs="+", default=[0.3, 0.05])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not 1 <= args.days <= 730 or not all(0.05 <= s <= 5 for s in args.speeds) or not 1 <= args.repeat <= 20:
        print("pace bench cannot run: --days must be 1..730, --speeds 0.05..5, --repeat 1..20", file=sys.stderr)
        return 2
    try:
        r = run(args.url, args.speeds, args.days, args.repeat)
    except (AssertionError, RuntimeError, ValueError) as exc:  # AssertionError: a wait timed out
        print(f"pace bench cannot run: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(r) if args.json else format_text(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
