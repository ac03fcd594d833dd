"""/orders: today's purchase-order proposals."""
