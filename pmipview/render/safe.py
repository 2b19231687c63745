"""Strings from the wire are untrusted: renderers escape them with the project's one
rule, :func:`dissectors.text.safe_text` (control characters as ``\\xNN``)."""

from dissectors.text import safe_text

__all__ = ["safe_text"]
