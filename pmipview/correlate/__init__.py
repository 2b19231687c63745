"""Stage 4: per-MN timelines from signals (engine.py), as plain data (model.py)."""

from pmipview.correlate.engine import Correlator
from pmipview.correlate.model import DIAGNOSTICS, Report

__all__ = ["DIAGNOSTICS", "Correlator", "Report"]
