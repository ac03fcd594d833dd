"""/about: the model behind the numbers — formulas (MathJax), event order, assumptions, heuristics."""
import dash
from dash import dcc, html

dash.register_page(__name__, path="/about", name="About", title="About · Inventory Simulator")

TEXT = r"""
## What the simulator does

Each simulated day a forecaster predicts demand for the coming days, an inventory policy turns the forecast into
an order, the order arrives after the lead time, demand is served from stock, and the day's costs are booked.
The web page only displays the engine's ledger; every number comes from `engine/` (the same code the CLI runs).

## Event order of day $t$ (1-based)

1. **Order decision** from information up to day $t-1$: forecasts for days $t, \dots, t+L$ and the inventory
   position $IP_t = \text{on-hand} + \text{on order} - \text{backlog}$. An order placed on day $t$ arrives at the
   start of day $t+L$.
2. **Arrivals** due today are added to on-hand.
3. **Demand** is fulfilled from on-hand; the rest is lost (default, as in the original app) or backordered.
4. **Costs**: $h \times$ ending on-hand $+\; p \times$ unmet units (lost sales) or $p \times$ backlog at day end
   (backorders).

## Order-up-to policy

The protection period is $L + 1$ days (the lead time plus the review period of one day). With
$\mu_{L+1}$ the sum of the forecasts for days $t, \dots, t+L$ and $\sigma_{L+1}$ the standard deviation of the
forecast error over $L+1$-day windows,

$$S_t = \mu_t + Q_q(r)\,\max(\mu_t, \text{floor})^{1/2}, \qquad q = \frac{p}{p+h}, \qquad
Q_t = \max\left(0,\; S_t - IP_t\right),$$

with $\mu_t$ the sum of the forecasts of the $L+1$ days the order protects and $Q_q(r)$ the quantile at level $q$
of the relative forecast errors $r = (D - \mu)/\max(\mu, \text{floor})^{1/2}$ of past $(L+1)$-day windows: seeded
from out-of-sample errors on the history and updated every day with the windows completed before that day (an
order-statistic where the errors resolve $q$, a fitted exponential tail beyond). The ledger shows $\mu$, the safety
stock and how the quantile was obtained. With backorders the cost is $b$ per unit per day of backlog (default
margin / 30); the lead time is the effective one of the arrival process (orders queue when crossing is off).

Costs as in the original app: $h = \text{annual holding rate} \times \text{unit cost} / 365$ per unit per day and
$p = \text{unit price} - \text{unit cost}$ per unit short, both overridable; $p \le 0$ is an error, not a silent
clip. Instead of the critical ratio you may give a target service level $\alpha$ (the quantile level $q$; its
normal score $z = \Phi^{-1}(\alpha)$ is what the optimum search reports).

**Lost sales (heuristic).** $p/(p+h)$ is the optimal fractile of the *backorder* system; with lost sales a stockout
does not carry into the next position, and the backorder level over-stocks. In synthetic and forecast-noise mode
the level $q$ is therefore chosen on the extra paths the prior is made of (never on a scored path): the rule is
simulated there at $q = \Phi(z^* - \delta)$, $\delta = 0, 0.05, \dots, 1$, and the level nearest $p/(p+h)$ whose
mean cost is within one standard error of the lowest is used. The run's `info.policy.level_source` says which level
was used; a service-level target, backorders or replay keep $q$ as given.

**How $\sigma$ is estimated.** From the forecaster's *out-of-sample* errors on the history: for each rolling origin
$o$, $e_o = \sum \text{actual}[o:o+L+1] - \sum \text{forecast}(\text{history}[:o])[0:L+1]$ and
$\sigma_{L+1} = \text{RMSE}(e)$ when there are at least 8 windows.
**Heuristic:** fallback with fewer windows: $\sigma_1\sqrt{L+1}$ with $\sigma_1$ the
one-step error (assumes independent daily errors), and with almost no history the demand's own spread
$\text{std}(d)\sqrt{L+1}$. The original app used the spread of its own past forecasts instead — model
disagreement over time, not forecast error — which is not a measure of risk.

Other policies: constant base-stock level $S$; $(s, S)$: order up to $S$ when $IP \le s$; $(r, Q)$: order $Q$
when $IP \le r$.

## KPIs

| KPI | definition |
|---|---|
| Fill rate | fulfilled units / demanded units |
| Cycle service level | share of replenishment cycles (one arrival to the day before the next) without a stockout |
| Days without stockout | share of days without a stockout |
| Cumulative cost | holding + stockout cost so far |
| Inventory position | on-hand + on order − backlog |

## Demand modes

* **replay** — actual demand is the loaded history after the context window (the horizon is limited to what
  remains);
* **synthetic** — the engine's generator continues the series (yearly cycle, promotions, count noise), calibrated
  to the context;
* **forecast-noise** — the original app's mode: $\max(0, f + N(0, (\text{noise}\cdot\max(1,f))^2))$.
  **Heuristic:**: here the forecast is unbiased by construction, so forecast quality
  cannot show; prefer *replay* or *synthetic* to compare forecasters.

## Forecasters and what they may know

* **On the public file, `planning` and `ensemble:default` are optimistic.** The `Demand_Forecast` column of the
  public dataset is the realised demand plus noise (regressed on it: slope 1.000, intercept −0.02): a forecaster
  that reads it for the coming days sees part of the future demand. The bundled sample's column is a real ex-ante
  plan (made 31 days ahead from earlier demand, the promotion plan and the calendar), so there it measures skill.
  The default forecaster is **`ensemble:past-only`** (past demand only), and the default replay plays only days
  after its training period; a replay that starts inside a model's training period shows a warning.
* On past demand only, the public data is a yearly cycle plus promotions plus white noise: recent days add
  nothing beyond the seasonal curve, so the ensemble beats the moving averages by about 5 % (MAE 4.40 vs 4.66),
  not by more. An ensemble trained with the *calendar* input (one yearly shape by day of year pooled over the
  file's series; reads the dates, not the promotion plan) scores 4.39–4.40: it only helps series that share
  their yearly shape, so the bundled models do not use it.

## Assumptions

* One item at one location, one supplier, daily review; lead time fixed unless a distribution is chosen.
* Unmet demand is lost unless *backorders* is chosen.
* The same seed gives the same demand path to every policy (common random numbers), so differences between runs
  are caused by the settings, not by noise.

## Which parts are heuristics

| part | status | better option offered |
|---|---|---|
| $\sigma$ fallback $\sigma_1\sqrt{L+1}$ | heuristic (independent errors) | enough history for ≥ 8 windows |
| forecast-noise demand | heuristic (original app's mode) | replay / synthetic demand |
| $z$ from $p/(p+h)$ with a forecast-driven $\mu$ | newsvendor approximation per day | simulation-optimised $z$ or $S$ on **/optimum** |
| the lost-sales level on the prior's paths | sample-average choice (one-standard-error rule), lead time $W-1$ fixed | simulation-optimised $z$ on **/optimum** |
| the original's rule (past forecasts, forecast spread) | reproduced for comparison only | order-up-to rule above |
"""

layout = html.Div([
    html.H1("About the simulator", className="h3 mt-3"),
    dcc.Markdown(TEXT, mathjax=True, id="about-text", className="bg-white p-4 rounded"),
])
