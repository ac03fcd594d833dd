"""What the simulator page derives from a run's ledger rows: KPI card texts, event-log entries, the ledger CSV,
the progress bar and the tick pace. Pure functions of the rows; nothing here reads the store or imports dash."""
from __future__ import annotations

import datetime as _dt

from dashapp.ui.ledger_totals import totals
from engine.simulation.metrics import fill_rate
from engine.simulation.simulator import ledger_csv as engine_ledger_csv

MAX_LOG = 200  # event-log entries kept on the page (the full ledger downloads as CSV)
STATUS_TEXT = {"idle": "ready", "running": "running", "paused": "paused", "done": "finished"}
# Beside the status: why Start is off, or what a button will do now.
RUN_NOTES = {"running": "— Start is off during a run: Pause first.",
             "paused": "— Start begins a new run at day 1."}


def button_states(status: str, days_shown: int) -> dict[str, bool]:
    """Which run-bar buttons are disabled (True) in a status: Pause only applies to a run that is running or
    paused, Reset only when there is something to clear, Start not while a run is going on (it would restart
    the run without asking). Step always applies (during a run it pauses, see SimulationService._step)."""
    return {"start": status == "running", "pause": status not in ("running", "paused"),
            "step": False, "reset": status == "idle" and days_shown == 0}


def units(x: float) -> str:
    """A quantity as the ledger holds it, one rule everywhere on the page: a whole number without decimals
    ("21"), anything else with two ("34.07") — never 34.07 shown as "34" beside a ledger that says 34.07."""
    x = float(x)
    return f"{x:,.0f}" if abs(x - round(x)) < 0.005 else f"{x:,.2f}"


def events_of(row: dict) -> list[tuple[str, str]]:
    """Event-log entries of one ledger row, newest first within the day: (text, kind)."""
    out = []
    d = int(row["day"])
    if row.get("order_qty"):
        on = f" ({_weekday(row['date'])})" if row.get("date") else ""  # a supplier's order days are weekdays
        out.append((f"Day {d}{on}: ordered {units(row['order_qty'])} units "
                    f"(S = {units(row.get('order_up_to') or 0)})", "order"))
    if row.get("unmet"):
        what = "backordered" if row.get("backlog") else "lost"
        out.append((f"Day {d}: STOCKOUT — {units(row['unmet'])} of {units(row['demand'])} units {what}",
                    "stockout"))
    if row.get("arrivals"):
        out.append((f"Day {d}: {units(row['arrivals'])} units arrived", "arrival"))
    return out


def _weekday(date) -> str:
    """'Mon 2025-11-24' of a ledger date (the date as it is when it does not read as an ISO date)."""
    try:
        return f"{_dt.date.fromisoformat(str(date)[:10]):%a %Y-%m-%d}"
    except ValueError:
        return str(date)


def latest_events(rows: list[dict], limit: int = MAX_LOG) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for row in reversed(rows):
        out.extend(events_of(row))
        if len(out) >= limit:
            break
    return out[:limit]


def event_summary(rows: list[dict]) -> str:
    """The whole run's events in one line (the log itself keeps only the latest MAX_LOG entries)."""
    if not rows:
        return "No events yet."
    t = totals(rows)
    return (f"{len(rows)} days: {t['orders']:.0f} orders · {t['arrivals']:.0f} arrivals · "
            f"{t['stockout_days']:.0f} stockout days ({units(t['unmet'])} units unmet)")


def event_count(rows: list[dict], upto: int | None = None) -> int:
    """Event-log entries of rows[:upto] (all rows by default)."""
    return int(totals(rows, upto)["events"])


def kpi_values(rows: list[dict], horizon: int | None) -> dict:
    """The KPI cards' texts: id -> (main text, sub text). Fill rate = fulfilled / demand; beside it the share of
    days without a stockout, named as such (the per-cycle service level is engine.simulation.metrics'
    cycle_service_level). The on-hand card's position is the one the policy saw, before today's order, and after
    it (before − the order is what the order closes): on-hand and on order are end-of-day figures."""
    n = len(rows)
    hz = horizon or 0
    if not rows:
        return {
            "kpi-day": (f"Day 0 of {hz}", "not started"), "kpi-on-hand": ("–", ""), "kpi-on-order": ("–", ""),
            "kpi-cost": ("0.00", "holding 0.00 · stockout 0.00"), "kpi-fill-rate": ("–", ""),
            "kpi-order": ("–", ""),
        }
    last = rows[-1]
    t = totals(rows)
    hold, short = t["holding"], t["stockout"]
    fill = float(fill_rate(t))
    clean_days = (n - t["stockout_days"]) / n
    return {
        "kpi-day": (f"Day {n} of {hz}", f"{100 * n / hz:.0f}% done" if hz else ""),
        "kpi-on-hand": (units(last["on_hand"]), _position_text(last)),
        "kpi-on-order": (units(last["on_order"]), _level_text(last)),
        "kpi-cost": (f"{last['cumulative_cost']:,.2f}", f"holding {hold:,.2f} · stockout {short:,.2f}"
                     + (f" · ordering {t['ordering']:,.2f}" if t["ordering"] > 0 else "")),
        "kpi-fill-rate": (f"{100 * fill:.1f}%", f"days without a stockout {100 * clean_days:.1f}%"),
        "kpi-order": (units(last["order_qty"]), f"forecast {units(last['forecast'])}"),
    }


def _position_text(row: dict) -> str:
    """Inventory position (on-hand + on order − backlog) at today's decision: before the order, and after it."""
    before = float(row["inventory_position"])
    after = before + float(row.get("order_qty") or 0.0)
    return f"position {units(before)} before today's order, {units(after)} after"


def _level_text(row: dict) -> str:
    """The order-up-to level with its parts: S = μ + safety stock (how the quantile was obtained)."""
    if row.get("order_up_to") is None:
        return ""
    text = f"S = {units(row['order_up_to'])}"
    if row.get("quantile_method") not in (None, "none"):
        text += (f" = forecast {units(row['mu'])} + safety {units(row['safety_stock'])} "
                 f"({row['quantile_method']} quantile)")
    return text


def level_note(level: dict | None) -> str:
    """The order-up-to rule's quantile level and where it came from, as a sentence ('' for other policies)."""
    if not level or level.get("quantile_level") is None:
        return ""
    q, source = float(level["quantile_level"]), str(level.get("level_source") or "")
    if level.get("safety_quantile") is not None:
        return (f"Level used: S = forecast + Q·√max(forecast, floor) with your fixed safety quantile "
                f"Q = {float(level['safety_quantile']):.3f} (a recommendation's), not a quantile of the run's errors.")
    if source.startswith("lost-sales"):
        return (f"Level used: q = {q:.4f}, chosen for lost sales on the prior's extra paths (a heuristic; "
                f"p/(p+h) = {float(level['critical_ratio']):.4f}).")
    if source == "service level":
        return f"Level used: your service target q = {q:.4f}."
    return f"Level used: q = p/(p+h) = {q:.4f}."


def progress(n: int, horizon: int | None) -> tuple[int, str]:
    """(percent done, "n / horizon") for the progress bar."""
    pct = round(100 * n / horizon) if horizon else 0
    return pct, f"{n} / {horizon}" if horizon else ""


def ledger_csv(rows: list[dict]) -> str:
    """The run's ledger as CSV: the engine's one ledger writer (formula-injection safe, numbers rounded)."""
    return engine_ledger_csv(rows)


def days_per_tick(speed: float) -> tuple[int, int]:
    """(interval in ms, days per tick): ticks never fire faster than every 100 ms; faster speeds step more days."""
    interval = max(100, int(round(speed * 1000)))
    return interval, max(1, int(round(0.1 / speed))) if speed < 0.1 else 1
