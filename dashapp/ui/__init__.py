"""Parts two or more pages use: components, field rules, shared figures, background jobs, upload handling."""
