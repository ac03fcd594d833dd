"""Studies built on the simulation: scenarios on common random numbers, the optimum, the portfolio."""
