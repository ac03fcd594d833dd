"""The simulator page (/) and the modules only it uses."""
