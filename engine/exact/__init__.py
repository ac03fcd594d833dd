"""Exact periodic-review inventory models (lost sales and backorders) with discrete i.i.d. demand.

distributions: the demand pmf (Poisson, negative binomial, empirical from a series);
model: the lost-sales state space (on-hand + pipeline) and its transitions;
solve: the optimal average cost by relative value iteration; evaluate: the exact cost of a stationary policy
(stationary distribution of its Markov chain); policies: capped base-stock, projected inventory level and
constant order on that state space, with their parameters optimised exactly; backorders: the backorder model.
"""
