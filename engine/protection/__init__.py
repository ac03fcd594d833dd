"""Protection-period demand: error quantiles, the simulated prior, its store, the lost-sales level."""
