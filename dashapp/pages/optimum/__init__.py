"""The optimum page (/optimum) and the modules only it uses."""
