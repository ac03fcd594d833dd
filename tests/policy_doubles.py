"""A policy declared the way another module adds one (plain parameter names plus param_bounds), for the tests
that check the CLI, the validation, the scenario table and the simulator page all follow the registry."""
from __future__ import annotations

from contextlib import contextmanager

from engine.policies.base import Policy, register_policy, unregister_policy


class Capped(Policy):
    """Order up to S, at most `daily_cap` units a day."""

    name = "capped-test"
    label = "Capped order-up-to"
    params = ("S", "daily_cap")  # plain names: the default spec, narrowed by param_bounds
    param_bounds = {"daily_cap": (1.0, 50.0)}

    def __init__(self, setup, S=None, daily_cap=None):
        super().__init__(setup)
        self.S, self.daily_cap = S or 10.0, daily_cap or 5.0

    def decide(self, ip, obs):
        return min(max(self.S - ip, 0.0), self.daily_cap), self.S


@contextmanager
def registered(cls=Capped):
    """`cls` registered for the duration of the block."""
    register_policy(cls.name, cls)
    try:
        yield cls
    finally:
        unregister_policy(cls.name)
