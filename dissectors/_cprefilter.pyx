# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of ``dissectors.prefilter.classify`` (see _cprefilter.pxd)."""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

ABI = 2  # dissectors/speedups.py


def classify(linktype, data):
    """OTHER, MH, DHCP or FRAGMENT, exactly as the pure classify."""
    cdef bytes b = data if type(data) is bytes else bytes(data)
    if not -(1 << 62) < linktype < (1 << 62):
        return C_OTHER
    return classify_c(linktype, <const unsigned char*>PyBytes_AS_STRING(b),
                      PyBytes_GET_SIZE(b))
