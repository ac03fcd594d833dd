"""Today's orders: per series the recommendation (engine.studies.recommend) on the history up to date D, netted
against today's stock, rounded to the item's packs and MOQ, on its order days, with a reason that names the numbers.

For each series of the stock file:
1. the item master (engine.data.items) gives lead time L, order days (review period R, engine.data.order_days),
   pack size, MOQ, costs and which of them were assumed;
2. the recommendation is asked on the sales rows dated before D, with the item's unit cost, price and holding rate,
   lead time L, order days, packs, MOQ and order cost K: its simulation orders on those weekdays only (periodic
   review, day 0 = D), so its level protects L + R days (the reason says so when R > 1), and rounds every simulated
   order to the packs and MOQ as step 4 rounds today's. Simplified — daily review with a lead time of L + R − 1,
   orders not rounded — the level over-delivered on the real days after D (M5, target 0.95, promised 0.951: orders on
   Mondays and Thursdays, realised 0.973 with 46.0 units on hand against 0.962 with 40.0; pack 12 and MOQ 24, 0.978
   with 38.3 against 0.955 with 33.9: bench.supplier_rules). Its level is used as it is: order-up-to S (today's
   forecast-driven level), (r, Q), or with K > 0 possibly (s, S): below s, up to S. Under the fill-rate objective the
   targets and promises get /portfolio's out-of-time correction (engine.studies.portfolio.with_calibration), read on
   every series of the sales file cut before D, once per distinct set of recommendation settings (lead time, order
   days, packs, MOQ, costs and K): a line is then the record /portfolio gives that series on the file as it stood on
   D with those settings;
3. inventory position = on hand + on order due after D (engine.data.stock);
4. on an order day: order-up-to orders when the position is below S, the need S − position; (r, Q) orders when the
   position is at or below r, the need n·Q with n the fewest that lift the position above r. The need is rounded
   up to whole packs (the smallest number of packs that covers it) and raised to the MOQ in whole packs, so every
   quantity is a multiple of the pack and at least the MOQ, or 0. On any other day nothing is ordered and the next
   order day is named. The order arrives L days after D.
The fixed cost per order K is carried to the order lines (order_cost) and weighed by the recommendation: with
K > 0 it minimises holding + lost-sales + K per order, and may choose (s, S) with a lot size (fewer, larger orders).
"""
from __future__ import annotations

import bisect
import datetime as _dt
import json
import math
from dataclasses import asdict, dataclass, replace

from engine.data.csv_safe import csv_text
from engine.data.items import ItemTerms, assumption_notes, assumptions_by_field
from engine.data.order_days import days_text, is_order_day, next_order_day
from engine.errors import ConfigError, DataError

__all__ = ["OrderSettings", "parse_order_date", "order_quantity", "decide", "propose_orders", "history_before",
           "recommendation_settings", "correction_checks",
           "purchase_order_csv", "PO_COLUMNS", "K_NOTE"]

K_NOTE = ("order cost K is shown per order line and weighed by the levels: the recommendation minimises holding + "
          "lost-sales + K per order (with K > 0 an (s, S) rule: below s, order up to S = s + lot)")
PO_COLUMNS = ["item", "location", "series", "order_date", "order_qty", "packs", "pack_size", "arrival_date",
              "unit_cost", "order_value", "currency", "reason"]


@dataclass
class OrderSettings:
    """What the recommendation is asked with (engine.studies.portfolio.PortfolioSettings' names)."""

    objective: str = "cost"
    target_fill_rate: float = 0.95
    replications: int = 20
    days: int = 90
    seed: int = 42
    forecaster: str | None = None   # ensemble:NAME of a global model: its calibrated quantile as the level
                                    # (engine.studies.global_orders), for either objective

    def to_dict(self) -> dict:
        return asdict(self)


def parse_order_date(text) -> _dt.date:
    """--date YYYY-MM-DD; ConfigError otherwise."""
    try:
        return _dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise ConfigError(f"--date {text!r} is not a date (YYYY-MM-DD)", field="date", value=text) from None


def order_quantity(need: float, pack: int, moq: int) -> tuple[int, int, bool]:
    """(units, packs, moq_binds) for a need > 0: the fewest whole packs covering the need, at least the MOQ in whole
    packs. A need ≤ 0 orders nothing."""
    if need <= 0:
        return 0, 0, False
    packs = max(1, math.ceil(need / pack - 1e-9))
    least = math.ceil(moq / pack - 1e-9) if moq > 0 else 0
    return max(packs, least) * pack, max(packs, least), least > packs


def _n(x: float) -> str:
    """A quantity as a planner reads it: whole numbers without decimals, others to one decimal."""
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:.1f}"


def decide(rec: dict, stock, terms: ItemTerms, date: _dt.date) -> dict:
    """The order line of one series on `date`: quantity, packs, arrival and the reason naming the numbers."""
    position, on_order, arrived = stock.position(date)
    p = rec["params"]
    pos_words = f"position {_n(position)}"
    if on_order > 0:
        pos_words += f" ({_n(stock.on_hand)} on hand + {_n(on_order)} on order)"
    protection = terms.protection_days
    if terms.review_days > 1:
        period = (f"{protection} days (lead time {terms.lead_time} + {terms.review_days} days between order days "
                  f"{days_text(terms.order_days)})")
    else:
        period = f"{protection} days"
    if rec["policy"] == "r-Q":
        r, q = float(p["reorder_point"]), float(p["order_quantity"])
        level, below = r, position <= r
        n = math.floor((r - position) / q) + 1 if below else 0
        need = n * q
        rule = f"reorder point {r:.1f} (r, Q rule over {period}, Q {_n(q)})"
        compare = f"{pos_words} {'≤' if below else '>'} {rule}"
        need_words = f"{n} × Q = {_n(need)}"
    else:   # order-up-to: below S, up to S; the K-aware (s, S): below s, up to S = s + lot
        top = float(p["order_up_to"])
        level = float(p["reorder_point"]) if rec["policy"] == "s-S" else top
        below = position < level
        need = top - position
        basis = f"{period} × forecast {p['daily_forecast']:.1f}/day + safety {p['safety_stock']:.1f}"
        if p.get("quantile_level") is not None:   # a global model's level (engine.studies.global_orders)
            basis += f": {p['forecaster']}'s {p['quantile_level']:.3f}-quantile of the demand over those days"
        if rec["policy"] == "s-S":
            rule = f"reorder level s {level:.1f} ({basis}; up to S = s + lot {p['lot_size']:.1f} = {top:.1f})"
        else:
            rule = f"level {level:.1f} ({basis})"
        compare = f"{pos_words} {'<' if below else '≥'} {rule}"
        need_words = f"need {need:.1f}"
    order_day = is_order_day(date, terms.order_days)
    nxt = next_order_day(date, terms.order_days)
    qty, packs, moq_binds = order_quantity(need if below else 0.0, terms.pack_size, terms.moq)
    if not order_day:
        reason = (f"{date:%a} {date.isoformat()} is not an order day ({days_text(terms.order_days)}): nothing "
                  f"ordered today; next order day {nxt:%a} {nxt.isoformat()} — {compare}"
                  + (", order then" if below else ""))
        qty = packs = 0
    elif not below:
        reason = f"{compare}: nothing to order"
    else:
        rounding = f"MOQ {terms.moq} → " if moq_binds else ""
        reason = f"{compare}: {need_words} → {rounding}{qty} = {packs} × {terms.pack_size}"
    if arrived:
        reason += "; " + ", ".join(f"{_n(q)} due {d.isoformat()} counted as arrived (in on hand)" for q, d in arrived)
    return {"order_qty": int(qty), "packs": int(packs), "order_day": order_day,
            "next_order_day": nxt.isoformat(), "arrival_date": (date + _dt.timedelta(days=terms.lead_time)).isoformat()
            if qty > 0 else None, "reason": reason, "position": position, "on_hand": stock.on_hand,
            "on_order": on_order, "counted_as_arrived": [[q, d.isoformat()] for q, d in arrived],
            "below_level": bool(below), "level": level, "need": need if below else 0.0}


def history_before(series, date: _dt.date):
    """The series' rows dated before `date` (the day's own sales are not known when its orders are placed)."""
    if not series.dates:
        raise DataError(f"series {series.key} has no dates; today's orders need a dated sales file", file=series.source)
    k = bisect.bisect_left(series.dates, date.isoformat())
    if k == 0:
        raise DataError(f"series {series.key} has no sales before {date.isoformat()} (its first date is "
                        f"{series.dates[0]})", file=series.source)
    return series.slice(0, k)


def series_phrase(keys: list, of: int) -> str:
    """The series a note applies to: the one key, or how many (all of the `of` proposed, when so) with the first
    three named — a note says once what it says of a whole file, not once a series."""
    if len(keys) == 1:
        return keys[0]
    named = ", ".join(keys[:3]) + (", …" if len(keys) > 3 else "")
    return f"{'all ' if len(keys) == of else ''}{len(keys)} series ({named})"


def stale_note(keys: list, last: _dt.date, date: _dt.date, of: int) -> str:
    """One note for the series whose sales history ends on `last`, more than a day before the order date."""
    gap = (date - last).days - 1
    return (f"{series_phrase(keys, of)}: the sales history ends {last.isoformat()}, {gap} day{'s' if gap != 1 else ''} "
            f"before {date.isoformat()}; the forecast starts from there")


def propose_orders(dataset, stock: dict, terms: dict[str, ItemTerms], date: _dt.date,
                   settings: OrderSettings | None = None, progress=None) -> dict:
    """Today's order lines for every series of the stock file, the assumptions behind them, and the sales series
    the stock file leaves out. `stock` from engine.data.stock.read_stock, `terms` from engine.data.items.item_terms.
    `progress(done, total, label, long_step=False)`, when given, is called before each series, and with
    long_step=True before each out-of-time correction (a step over the whole file, seconds to minutes: a printer
    that thins its lines shows every one of those); a page's background job shows it, and it may raise to stop the
    run."""
    from engine.studies.portfolio import with_calibration
    from engine.studies.recommend import recommend
    s = settings or OrderSettings()
    histories = {key: history_before(dataset.series[key], date) for key in stock}
    from_model, notes = _model_levels(dataset, histories, terms, date, s, progress)
    lines = []
    file_before, calibrated = None, {}
    stale: dict[_dt.date, list] = {}   # the day a series' history ends, when before the day before the order date
    caveats: dict[str, list] = {}      # a recommendation's caveat -> the series it applies to
    total = len(stock)
    for done, (key, pos) in enumerate(stock.items()):
        if progress:
            progress(done, total, f"{done} of {total} series")
        hist, t = histories[key], terms[key]
        last = _dt.date.fromisoformat(hist.dates[-1])
        if (date - last).days > 1:
            stale.setdefault(last, []).append(key)
        if from_model is not None:
            rec = from_model[key]
        else:
            known = "file" if t.prices_known() else "assumed"  # engine.studies.portfolio.cost_source reads these
            hist = replace(hist, unit_cost=t.unit_cost, unit_price=t.unit_price, lead_time_days=t.lead_time,
                           price_source=known, cost_source=known)
            ps = recommendation_settings(t, s)
            if s.objective == "fill-rate":   # /portfolio's correction of targets and promises, on the file before D
                if file_before is None:
                    file_before = _file_before(dataset, date)
                same = _settings_key(ps)   # one check per distinct settings
                if same not in calibrated:
                    if progress:
                        progress(done, total, f"{done} of {total} series; correcting the fill-rate target on all "
                                              f"{len(file_before):,} series of the file (correction "
                                              f"{len(calibrated) + 1})", long_step=True)
                    calibrated[same] = with_calibration(file_before, ps)
                ps = calibrated[same]
            rec = recommend(hist, ps)
        if rec.get("caveat"):
            caveats.setdefault(rec["caveat"], []).append(key)
        line = {"series": key, "item": pos.item, "location": pos.location, "order_date": date.isoformat(),
                **decide(rec, pos, t, date),
                "pack_size": t.pack_size, "moq": t.moq, "lead_time": t.lead_time, "review_days": t.review_days,
                "protection_days": t.protection_days, "order_days": days_text(t.order_days),
                "policy": rec["policy"], "unit_cost": t.unit_cost, "unit_price": t.unit_price,
                "currency": t.currency, "order_cost": t.order_cost, "holding_rate": t.holding_rate,
                "costs_source": rec["costs"]["source"], "assumed": t.assumed(), "assumption_notes":
                    assumption_notes(t), "recommendation": rec}
        line["order_value"] = line["order_qty"] * t.unit_cost
        if t.review_days > 1:
            line["protection_note"] = (f"the recommendation orders on {days_text(t.order_days)} only: a protection "
                                       f"period of {t.protection_days} days = lead time {t.lead_time} + review "
                                       f"period {t.review_days} (the longest gap between order days)")
        lines.append(line)
    notes = ([stale_note(keys, last, date, len(stock)) for last, keys in sorted(stale.items())] + notes
             + [f"{series_phrase(keys, len(stock))}: the recommendation is {c}" for c, keys in caveats.items()])
    skipped = [{"series": k, "reason": "no row in the stock file"} for k in dataset.series if k not in stock]
    k_note = [] if from_model else [K_NOTE]   # a model's levels say how they weigh K in their own note
    return {"date": date.isoformat(), "weekday": f"{date:%a}", "settings": s.to_dict(), "orders": lines,
            "assumptions": assumptions_by_field({k: terms[k] for k in stock}), "notes": notes + k_note,
            "skipped": skipped,
            "totals": {"lines": sum(1 for x in lines if x["order_qty"] > 0),
                       "units": sum(x["order_qty"] for x in lines),
                       "value": sum(x["order_value"] for x in lines)}}


def _model_levels(dataset, histories: dict, terms: dict, date: _dt.date, s: OrderSettings, progress):
    """(records {key: the global model's calibrated level}, the notes that say what that level leaves out) with
    s.forecaster, for the stock file's series (`histories`: each cut before `date`); (None, []) without it."""
    if s.forecaster is None:
        return None, []
    from engine.studies.global_orders import global_levels, levels_note
    from engine.studies.quantile_backtest import quantile_model
    model = quantile_model(s.forecaster)
    if progress:
        progress(0, len(histories), f"calibrating {model.name}'s level on the days it never trained on",
                 long_step=True)
    recs = global_levels(model, histories, terms, date, s.target_fill_rate, s.objective)
    days = next(iter(recs.values()))["evaluation"]["total_days"] if recs else 0
    notes = [levels_note(model.name, s.objective, s.target_fill_rate, days)]
    top = float(model.quantiles[-1])
    at_top = [k for k, r in recs.items() if r["params"]["quantile_level"] >= top - 1e-9]
    if s.objective == "cost" and at_top:
        notes.append(f"{len(at_top)} of {len(recs)} levels are {model.name}'s highest quantile ({top:g}): a lost sale "
                     "costs more there than holding the stock, and the least-cost level may lie higher, beyond what "
                     "the model forecasts (on the M5 store file, levels read off a tail above 0.99 cost no less on "
                     "the real days after the order date); each series' own recommendation reaches past it (its "
                     "error quantiles fit the tail)")
    from engine.forecast.backtest import days_never_read
    if days_never_read(model, dataset, None) is None:   # no series of this file is one it trained on
        trained_on = ((model.card or {}).get("training") or {}).get("data_file") or "another file"
        notes.append(f"{model.name} was trained on {trained_on}, not on these series: its level is calibrated on "
                     "this file's days, but how well it forecasts them is untested here — check it on /portfolio's "
                     "Check against history (engine backtest-policy --forecaster), or train one on this file "
                     "(engine train --global)")
    return recs, notes


def recommendation_settings(terms: ItemTerms, s: OrderSettings):
    """What one series' recommendation is asked with: the item's lead time, order days (periodic review, protection
    L + R), pack size, MOQ, holding rate and order cost K — every simulated order under the supplier's rules — and
    the order settings' objective, target and paths."""
    from engine.studies.portfolio import PortfolioSettings

    return PortfolioSettings(lead_time=terms.lead_time, order_days=days_text(terms.order_days),
                             pack_size=terms.pack_size if terms.pack_size > 1 else None, moq=float(terms.moq),
                             holding_rate=terms.holding_rate,
                             seed=s.seed, days=s.days, replications=s.replications, objective=s.objective,
                             target_fill_rate=s.target_fill_rate, order_cost=float(terms.order_cost)).validate()


def correction_checks(terms: dict[str, ItemTerms], keys, s: OrderSettings) -> int:
    """How many out-of-time checks (each over every series of the sales file) propose_orders runs for `keys`: one
    per distinct recommendation settings under the fill-rate objective, none under least expected cost or with a
    global model's levels (engine.studies.global_orders calibrates its own, once)."""
    if s.objective != "fill-rate" or s.forecaster:
        return 0
    return len({_settings_key(recommendation_settings(terms[k], s)) for k in keys})


def _settings_key(ps) -> str:
    """Recommendation settings as a key: equal settings get one out-of-time check."""
    return json.dumps(ps.to_dict(), sort_keys=True, default=str)


def _file_before(dataset, date: _dt.date) -> list:
    """Every series of the sales file cut before `date` (those with sales before it): what /portfolio's out-of-time
    correction reads when it is run on the file as it stood on the order date."""
    out = []
    for series in dataset.series.values():
        try:
            out.append(history_before(series, date))
        except DataError:
            continue
    return out


def _packs(qty: int, pack: int):
    """Whole packs as an integer; an edited quantity that is not a multiple of the pack as a fraction."""
    return qty // pack if qty % pack == 0 else round(qty / pack, 3)


def purchase_order_csv(orders: list[dict], quantities: dict[str, int] | None = None) -> str:
    """The order lines with a quantity > 0 as CSV for an ERP (formula-safe, engine.data.csv_safe). `quantities`
    ({series: units}) replaces proposed quantities (a planner's edits); packs and value follow them."""
    rows = [PO_COLUMNS]
    for o in orders:
        qty = int(o["order_qty"] if quantities is None or o["series"] not in quantities else quantities[o["series"]])
        if qty <= 0:
            continue
        arrival = o["arrival_date"] or (_dt.date.fromisoformat(o["order_date"])
                                        + _dt.timedelta(days=o["lead_time"])).isoformat()
        rows.append([o["item"], o["location"] or "", o["series"], o["order_date"], qty,
                     _packs(qty, o["pack_size"]), o["pack_size"], arrival, o["unit_cost"],
                     round(qty * o["unit_cost"], 2), o["currency"], o["reason"]])
    return csv_text(rows)
