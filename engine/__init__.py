"""Inventory simulation core: data, generator, forecasters, policies, simulator, batch runs, metrics, CLI.

Never imports dash; TensorFlow only inside the training/legacy functions of engine.forecast.
"""
