"""Exact periodic-review inventory models (lost sales and backorders) with discrete i.i.d. demand.

distributions: the demand pmf (Poisson, negative binomial, empirical from a series);
grid: the lost-sales MDP on a dense grid with tight bounds (order cap, position bound), fixed order cost and order
multiples, its Bellman operator evaluated on the fly; solve: the optimal average cost by relative value iteration
with span bounds; chain: the exact cost of a stationary policy on the grid; lookahead: one-step policy improvement
of a simple policy (a heuristic, evaluated exactly); fixed_cost: (s, S) and (s, nQ) with an order cost;
model + evaluate + policies: the simplex state space on which base-stock, capped base-stock, projected inventory
level and constant order are searched; backorders: the backorder model; report: all of it in one record.
"""
