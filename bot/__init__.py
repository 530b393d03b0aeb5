"""Rapport: practise difficult clinical conversations with a simulated patient."""

__version__ = "0.1.0"
