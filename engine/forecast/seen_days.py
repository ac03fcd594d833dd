"""Did a trained model see a backtest's held-out days? A fingerprint of each training series' history on the card.

A backtest scores a model only on days it never saw (engine.forecast.backtest.check_training_period). For the very
file it was trained on, the card's SHA-256 and its last training date per series settle it. A copy of that file cut
at an earlier date (the way a forecaster is judged at other dates) has another SHA-256 but the same series with the
same days: a global model trained on the whole file would be scored on days it trained on, and would look better
for it. Series names and dates alone cannot tell such a copy from another file with the same layout (the bundled
sample and the public file share their keys and dates, not their demand). So the card carries, per series, the
first day of its history and a digest of its first HISTORY_DIGEST_DAYS days of demand: a file whose series starts
on that day with the same demand holds the same history, and then the card's last training date says whether the
held-out days were in the training.
"""
from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["HISTORY_DIGEST_DAYS", "history_digest", "history_digests", "holds_history", "first_unseen",
           "same_history_seen"]

HISTORY_DIGEST_DAYS = 28


def history_digest(dates, demand) -> str | None:
    """'<first date>:<sha1 of the first HISTORY_DIGEST_DAYS days' demand>' (None without dates or that many days).
    The values are hashed as float64 rounded to 6 decimals: the same CSV read twice gives the same digest."""
    if not dates or len(demand) < HISTORY_DIGEST_DAYS:
        return None
    head = np.round(np.asarray(demand[:HISTORY_DIGEST_DAYS], dtype=np.float64), 6) + 0.0   # + 0.0: no −0.0
    return f"{str(dates[0])[:10]}:{hashlib.sha1(head.tobytes()).hexdigest()[:16]}"


def history_digests(series) -> dict:
    """{key: history_digest} of training series (anything with key, dates and demand)."""
    out = {}
    for s in series:
        d = history_digest(s.dates, s.demand)
        if d is not None:
            out[s.key] = d
    return out


def holds_history(training: dict, key, dates, demand) -> bool:
    """Whether a series holds the history the card's training file held under its key (the same first day and first
    days of demand); False when the card has no digest of it (another series, or an entry trained before digests
    were recorded)."""
    digest = (training.get("history_digest_by_series") or {}).get(key)
    return digest is not None and digest == history_digest(dates, demand)


def first_unseen(dates, last) -> int:
    """Index of the first of `dates` after `last`, a model's last training day (len(dates) when none is): the days
    from there on are the ones it never read."""
    last = str(last)[:10]
    return next((i for i, d in enumerate(dates) if str(d)[:10] > last), len(dates))


def same_history_seen(training: dict, targets) -> tuple | None:
    """(key, last training date, first held-out date) of the first target whose history the card's training file
    held (same key, same digest) up to a day inside the target's held-out days; None when there is none (or the
    card has no digests: an entry trained before they were recorded)."""
    last = training.get("last_train_date_by_series") or {}
    for t in targets:
        if t.key not in last or not t.dates:
            continue
        first_held = str(t.dates[t.positions[0]])[:10]
        if str(last[t.key])[:10] >= first_held and holds_history(training, t.key, t.dates, t.demand):
            return t.key, str(last[t.key])[:10], first_held
    return None
