"""Wire codecs for pmipview: pure functions over bytes, standard library only, no I/O.

Every layer module exposes ``decode_<layer>(buf, offset)`` returning ``(value, next_offset)``
and ``encode_<layer>(...) -> bytes``.  Layer decoders raise only :class:`DecodeError`;
:func:`dissectors.frame.decode_frame` turns that into a frame marked malformed and never
raises.
"""

from . import speedups  # noqa: F401 - first: which modules run compiled (PMIPVIEW_PURE)
