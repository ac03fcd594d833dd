"""Replenishment policies behind one interface, declared once, registered by name."""
