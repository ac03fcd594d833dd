"""A small generated retail file in the M5 layout (date,item_id,store_id,sales,sell_price) for fast tests."""
from __future__ import annotations

import datetime as dt

import numpy as np


def write_retail_csv(path, n_items: int = 6, days: int = 300, seed: int = 0, start: str = "2015-01-01") -> None:
    """Poisson demand with a weekly swing, item levels from 0.3 (intermittent) to 12 per day, price cuts that lift
    demand by half."""
    rng = np.random.default_rng(seed)
    d0 = dt.date.fromisoformat(start)
    rows = ["date,item_id,store_id,sales,sell_price"]
    for i in range(n_items):
        level = 0.3 * (40 ** (i / max(n_items - 1, 1)))
        base_price = round(2.0 + i, 2)
        for t in range(days):
            cut = (t // 7) % 9 == 4
            price = round(base_price * (0.8 if cut else 1.0), 2)
            mu = level * (1.0 + 0.4 * np.sin(2 * np.pi * (t % 7) / 7.0)) * (1.5 if cut else 1.0)
            rows.append(f"{d0 + dt.timedelta(days=t)},ITEM_{i},S_1,{rng.poisson(mu)},{price}")
    path.write_text("\n".join(rows) + "\n")
