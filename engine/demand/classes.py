"""Demand classes of Syntetos, Boylan & Croston (2005), "On the categorization of demand patterns", JORS 56.

ADI = average inter-demand interval (days per demand occurrence: days / days with demand > 0); CV² = squared
coefficient of variation of the non-zero demand sizes. Cut-offs ADI = 1.32 and CV² = 0.49 (the paper's values):
smooth (ADI < 1.32, CV² < 0.49), erratic (ADI < 1.32, CV² ≥ 0.49), intermittent (ADI ≥ 1.32, CV² < 0.49),
lumpy (ADI ≥ 1.32, CV² ≥ 0.49). A series without any demand is "no demand".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DemandClass", "classify", "ADI_CUTOFF", "CV2_CUTOFF", "CLASSES", "INTERMITTENT_CLASSES"]

ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "no demand")
INTERMITTENT_CLASSES = ("intermittent", "lumpy")


@dataclass(frozen=True)
class DemandClass:
    label: str
    adi: float | None
    cv2: float | None
    zero_share: float

    def to_dict(self) -> dict:
        return {"class": self.label, "adi": self.adi, "cv2": self.cv2, "zero_share": self.zero_share}


def classify(demand) -> DemandClass:
    """The class of one series of daily demand (a 1-d array)."""
    y = np.asarray(demand, dtype=np.float64)
    n = len(y)
    sizes = y[y > 0]
    zero_share = float(1.0 - len(sizes) / n) if n else 1.0
    if len(sizes) == 0:
        return DemandClass("no demand", None, None, zero_share)
    adi = n / len(sizes)
    mean = sizes.mean()
    cv2 = float(sizes.var() / mean**2) if len(sizes) > 1 else 0.0
    if adi < ADI_CUTOFF:
        label = "smooth" if cv2 < CV2_CUTOFF else "erratic"
    else:
        label = "intermittent" if cv2 < CV2_CUTOFF else "lumpy"
    return DemandClass(label, float(adi), cv2, zero_share)
