"""The /scenarios CSV download: one row per scenario with the settings behind it beside its KPIs (mean, 95 % CI
half-width, paired difference vs the baseline), numbers rounded to what the simulation can tell apart. No dash;
formula-injection safe through engine.data.csv_safe."""
from __future__ import annotations

from engine.data.csv_safe import csv_text
from engine.studies import scenarios as sc

FRACTION_KPIS = ("fill_rate", "cycle_service_level", "days_without_stockout")


def _rounded(kpi: str, value):
    """Fractions to 4 decimals (0.01 percentage points), money and units to 2; anything else as it is."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    return round(float(value), 4 if kpi in FRACTION_KPIS else 2)


def scenario_csv(result: dict) -> str:
    """The CSV text: name, settings columns (union over the scenarios, in a stable order), then per KPI
    `kpi_mean`, `kpi_ci95`, `kpi_diff_mean`, `kpi_diff_ci95`; plus the run's replications, days and seed."""
    scen = [s for s in result.get("scenarios", []) if isinstance(s, dict)]
    settings: list[str] = []
    for s in scen:
        for k in (s.get("options") or {}):
            if k not in settings:
                settings.append(str(k))
    kpis = [k for k in sc.REPORTED_KPIS if any(k in (s.get("kpis") or {}) for s in scen)]
    header = (["scenario", *settings, "replications", "days", "seed"]
              + [f"{k}_{part}" for k in kpis for part in ("mean", "ci95", "diff_mean", "diff_ci95")])
    rows = [header]
    for s in scen:
        opts = s.get("options") or {}
        row = [s.get("name"), *[opts.get(k) for k in settings],
               result.get("replications"), result.get("days"), result.get("seed")]
        for k in kpis:
            v = (s.get("kpis") or {}).get(k) or {}
            d = (s.get("diff_vs_baseline") or {}).get(k) or {}
            row += [_rounded(k, v.get("mean")), _rounded(k, v.get("ci95")),
                    _rounded(k, d.get("mean")), _rounded(k, d.get("ci95"))]
        rows.append(row)
    return csv_text(rows)
