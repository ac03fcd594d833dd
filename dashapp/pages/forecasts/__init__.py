"""The forecasts page (/forecasts) and the modules only it uses."""
