"""Ladder (sequence) diagrams: one layout model (model.py) drawn by every backend."""
