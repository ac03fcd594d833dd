"""Demand paths of the simulated days (replay, synthetic, forecast-noise), lead times, demand classes."""
