"""Rasa custom actions: thin adapters that read the tracker, call ``bot`` and write slots and messages."""
