"""The portfolio page (/portfolio) and the modules only it uses."""
