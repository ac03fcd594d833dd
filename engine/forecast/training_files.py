"""A training or backtest command's data file: the one loader, optionally narrowed to some series (`--series`),
shared by `engine train`, `engine backtest` and `engine train --global`."""
from __future__ import annotations

__all__ = ["load_training_file"]


def load_training_file(path, series_arg, columns=None, fill_missing_zero=False):
    """The dataset of `path` (read with the `--columns` mapping); `series_arg` "A,B" keeps those series (DataError
    naming an unknown one)."""
    from engine.data.dataset import load_csv
    ds = load_csv(path, columns=columns, fill_missing_zero=fill_missing_zero)
    if series_arg:
        keys = [k.strip() for k in series_arg.split(",") if k.strip()]
        unknown = [k for k in keys if k not in ds.series]
        if unknown:
            from engine.errors import DataError
            raise DataError(f"no series {unknown[0]!r}; the file has: {', '.join(list(ds.series)[:20])}",
                            file=ds.name)
        ds.series = {k: ds.series[k] for k in keys}
    return ds
