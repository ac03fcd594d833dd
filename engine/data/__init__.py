"""Data in: the one loader of daily demand files, column layouts, the generator of synthetic files, safe CSV out."""
