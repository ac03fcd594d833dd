"""Strict-JSON values from engine results: the one converter behind --json output, cached job results and
stored records (NaN/inf become null, numpy scalars become Python numbers, tuples become lists, keys strings)."""
from __future__ import annotations

import math

import numpy as np


def json_safe(x):
    """`x` with every value json.dumps(..., allow_nan=False) accepts."""
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return None if not math.isfinite(v) else v
    if isinstance(x, np.integer):
        return int(x)
    return x
