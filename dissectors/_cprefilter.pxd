# cython: language_level=3
# The pre-filter's header walk in C: dissectors/prefilter.py's classify, line for line
# (tests/dissectors/test_speedups.py runs both on every sample, shape and fuzz mutant).
# Inline in this .pxd so that the compiled reader (pmipview/sources/_creader.pyx) calls it
# without a Python call.

cdef enum:
    C_OTHER = 0
    C_MH = 1
    C_DHCP = 2
    C_FRAGMENT = 3


cdef inline int _port_class(unsigned int port) noexcept nogil:
    if port == 5436:
        return C_MH
    if port == 67 or port == 68:
        return C_DHCP
    return C_OTHER


cdef inline int classify_c(long long linktype, const unsigned char* d,
                           Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t off
    cdef unsigned int et, nh, version
    cdef Py_ssize_t size
    cdef int sport, dport
    # -- link layer ------------------------------------------------------------------
    if linktype == 1:
        if n < 14:
            return C_OTHER
        et = d[12] << 8 | d[13]
        off = 14
        while et == 0x8100 or et == 0x88A8 or et == 0x9100:
            if off + 4 > n:
                return C_OTHER
            et = d[off + 2] << 8 | d[off + 3]
            off += 4
    elif linktype == 113:
        if n < 16:
            return C_OTHER
        et = d[14] << 8 | d[15]
        off = 16
    elif linktype == 276:
        if n < 20:
            return C_OTHER
        et = d[0] << 8 | d[1]
        off = 20
    elif (linktype == 101 or linktype == 12 or linktype == 14 or linktype == 228
          or linktype == 229 or linktype == 0 or linktype == 108):
        off = 4 if linktype == 0 or linktype == 108 else 0
        if n <= off:
            return C_OTHER
        version = d[off] >> 4
        et = 0x0800 if version == 4 else (0x86DD if version == 6 else 0)
    else:
        return C_OTHER
    # -- network layer ---------------------------------------------------------------
    if et == 0x0800:
        if off + 20 > n or d[off] >> 4 != 4:
            return C_OTHER
        if (d[off + 6] & 0x1F) or d[off + 7]:
            return C_FRAGMENT
        if d[off + 9] != 17:
            return C_OTHER
        off += (d[off] & 0x0F) * 4
    elif et == 0x86DD:
        if off + 40 > n or d[off] >> 4 != 6:
            return C_OTHER
        nh = d[off + 6]
        off += 40
        while nh == 0 or nh == 43 or nh == 44 or nh == 51 or nh == 60:
            if off + 8 > n:
                return C_OTHER
            if nh == 44:
                if (d[off + 2] << 8 | d[off + 3]) & 0xFFF8:
                    return C_FRAGMENT
                size = 8
            elif nh == 51:
                size = (d[off + 1] + 2) * 4
            else:
                size = (d[off + 1] + 1) * 8
            nh = d[off]
            off += size
        if nh == 135:
            return C_MH
        if nh != 17:
            return C_OTHER
    else:
        return C_OTHER
    # -- UDP ports -------------------------------------------------------------------
    if off + 4 > n:
        return C_OTHER
    sport = _port_class(d[off] << 8 | d[off + 1])
    dport = _port_class(d[off + 2] << 8 | d[off + 3])
    if sport == C_MH or dport == C_MH:
        return C_MH
    return sport if sport else dport
