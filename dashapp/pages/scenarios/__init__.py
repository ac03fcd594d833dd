"""The scenarios page (/scenarios) and the modules only it uses."""
