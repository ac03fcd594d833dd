"""The inventory day and its callers: the single run, the vectorised batch, the KPIs."""
