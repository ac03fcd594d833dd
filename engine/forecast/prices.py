"""The selling-price plan of each series, read beside the loader (which keeps one unit price per series).

Prices are known in advance (a retailer sets them), so the global model may read the coming days' prices
(M5 treats sell_price the same way). Column: the layout's price column, else the first whose name, lower-cased
without "_", " " and "-", is one of PRICE_NAMES. Rows are matched to series by the loader's key (item/location);
a day without a price takes the last known one (the first known before it). None when the file has no price column.
"""
from __future__ import annotations

import numpy as np

__all__ = ["attach_prices", "PRICE_NAMES"]

PRICE_NAMES = ("sellprice", "price", "unitprice", "sellingprice", "preis")


def _norm(name: str) -> str:
    return name.lower().replace("_", "").replace(" ", "").replace("-", "")


def attach_prices(dataset, path) -> bool:
    """Set `series.price` ((len,) float64) on every series of a Dataset loaded from `path`; True when found."""
    import pandas as pd
    layout = getattr(dataset, "layout", None)
    if layout is not None:
        key_cols, date_col = [layout.item, layout.location], layout.date
        candidates = [layout.price] if layout.price else []
        candidates += [c for c in (layout.unused or []) if _norm(c) in PRICE_NAMES]
    else:
        key_cols, date_col = ["SKU_ID", "Warehouse_ID"], "Date"
        candidates = [c for c in (list(dataset.columns) + list(dataset.ignored_columns)) if _norm(c) in PRICE_NAMES]
    if not candidates or date_col is None:
        return False
    col = candidates[0]
    key_cols = [c for c in key_cols if c]
    try:
        frame = pd.read_csv(path, usecols=[*key_cols, date_col, col], dtype={c: str for c in key_cols})
    except (ValueError, OSError):
        return False
    frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame["_key"] = frame[key_cols[0]].astype(str)
    if len(key_cols) == 2:
        frame["_key"] = frame["_key"] + "/" + frame[key_cols[1]].astype(str)
    frame["_date"] = frame[date_col].astype(str).str[:10]
    found = False
    by_key = {k: g for k, g in frame.groupby("_key", sort=False)}
    for key, s in dataset.series.items():
        g = by_key.get(key)
        if g is None or not s.dates:
            continue
        p = g.set_index("_date")[col]
        p = p[~p.index.duplicated()].reindex(s.dates).ffill().bfill()
        if p.isna().all():
            continue
        s.price = p.to_numpy(dtype=np.float64)
        found = True
    if found:
        for s in dataset.series.values():
            if getattr(s, "price", None) is None:
                s.price = None
    return found
