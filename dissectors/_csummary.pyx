# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled counting path of ``pmipview dissect --summary``.

``Summary.take(linktype, frame)`` walks a frame the pre-filter let through (link, IPv4 or
IPv6 with its extension chain, UDP, Mobility Header with its options, DHCP with its
options) and returns 1 when it is sure that ``decode_frame(linktype, frame, lite=True)``
decodes it as signaling with no malformation and no warning; it then counts the frame
under its key (``dissectors/count_keys.py``).  At the first doubt (a length that does not
fit, a bad or unverifiable checksum, a fragment, an option the decoder would flag, a
Payload Proto other than 59, option overload, a full key table...) it returns 0 and the
caller decodes that frame in full, so a count is exact by construction: the C code only
ever says "clean", and says it only where each decoder's checks pass.  The checks and
tables come from the decoders (the port and header constants are those of
``_cprefilter.pxd``); the tests hold every frame ``take`` counts against
``decode_frame`` on every sample, the corpus, the shapes, the fuzz mutants and
truncations.  There is no pure twin: without this module ``dissect --summary`` decodes
every frame (``packets.scan``), which is what this path must equal.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdint cimport int64_t, uint32_t, uint64_t

from dissectors import count_keys

ABI = 2  # dissectors/speedups.py

cdef int _FIXED[256]           # MH fixed part length per type, -1: kept raw
cdef unsigned char _MASKED[256]  # per MH type: key bytes (bits 0-5) left out
cdef unsigned char _OPT[65536]   # mobility option (type << 8 | length): 0 not asked yet, 1 clean, 2 not
cdef unsigned char _DFLAGS[256]  # DHCP option rules (count_keys.D_*)
cdef unsigned char _DLEN[256]
cdef uint32_t _DMIN[256]
cdef unsigned char _SUBADDR[256]

cdef int D_TYPED = count_keys.D_TYPED
cdef int D_RULE = count_keys.D_RULE
cdef int D_MTYPE = count_keys.D_MTYPE
cdef int D_ADDRLIST = count_keys.D_ADDRLIST
cdef int D_CLIENT_ID = count_keys.D_CLIENT_ID
cdef int D_RELAY = count_keys.D_RELAY
cdef int D_OVERLOAD = count_keys.D_OVERLOAD
cdef uint64_t TAG_MH = count_keys.TAG_MH
cdef uint64_t TAG_DHCP = count_keys.TAG_DHCP
cdef uint64_t _GOLDEN = 0x9E3779B97F4A7C15  # Fibonacci hashing of the keys


def _init():
    cdef int i
    fixed = count_keys.fixed_lengths()
    masked = count_keys.masked_bytes()
    rules = count_keys.dhcp_rules()
    sub = count_keys.relay_address_codes()
    for i in range(256):
        _FIXED[i] = fixed[i]
        _MASKED[i] = masked[i]
        _DFLAGS[i], _DLEN[i], _DMIN[i] = rules[i]
        _SUBADDR[i] = i in sub
    for i in range(65536):
        _OPT[i] = 0


_init()


cdef inline unsigned int _u16(const unsigned char* p) noexcept nogil:
    return p[0] << 8 | p[1]


cdef inline uint64_t _sum(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    """The 16-bit big-endian words of p[:n] added up (an odd last byte padded with 0)."""
    cdef uint64_t s = 0
    cdef Py_ssize_t i = 0
    while i + 1 < n:
        s += <uint64_t>(p[i] << 8 | p[i + 1])
        i += 2
    if i < n:
        s += <uint64_t>(p[i] << 8)
    return s


cdef inline bint _verifies(uint64_t s) noexcept nogil:
    """A one's-complement sum that makes checksum.inet_checksum(...) == 0."""
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


cdef int _option_ok(unsigned int otype, unsigned int length) except -1:
    cdef unsigned int i = otype << 8 | length
    if _OPT[i] == 0:
        _OPT[i] = 1 if count_keys.option_length_ok(otype, length) else 2
    return _OPT[i] == 1


cdef class Summary:
    """The counts of the frames ``take`` was sure about: ``decoded`` and one count per key
    (:meth:`items`); ``handed_on`` frames were left to the full decoder."""

    def __cinit__(self):
        self.decoded = 0
        self.handed_on = 0
        self.used = 0
        cdef int i
        for i in range(SLOTS):
            self.keys[i] = 0
            self.counts[i] = 0

    def items(self):
        """``[(key, count), ...]`` of the keys seen."""
        cdef int i
        return [(self.keys[i], self.counts[i]) for i in range(SLOTS) if self.keys[i]]

    def classify(self, linktype, data):
        """``take`` on one frame (bytes-like), for the tests: the key it was counted
        under, or None when it was handed on."""
        cdef bytes b = data if type(data) is bytes else bytes(data)
        before = self.items()
        if not self.take(linktype, <const unsigned char*>PyBytes_AS_STRING(b),
                         PyBytes_GET_SIZE(b)):
            return None
        after = dict(self.items())
        for key, n in before:
            after[key] -= n
        return next(k for k, n in after.items() if n)

    cdef int _count(self, uint64_t key) except -1:
        cdef unsigned int h = <unsigned int>((key * _GOLDEN) >> 54) & (SLOTS - 1)
        while True:
            if self.keys[h] == key:
                self.counts[h] += 1
                self.decoded += 1
                return 1
            if self.keys[h] == 0:
                if self.used * 2 >= SLOTS:
                    return 0
                self.keys[h] = key
                self.used += 1
                self.counts[h] = 1
                self.decoded += 1
                return 1
            h = (h + 1) & (SLOTS - 1)

    cdef int take(self, long long linktype, const unsigned char* d,
                  Py_ssize_t n) except -1:
        cdef int r = self._take(linktype, d, n)
        if not r:
            self.handed_on += 1
        return r

    cdef int _take(self, long long linktype, const unsigned char* d,
                   Py_ssize_t n) except -1:
        cdef Py_ssize_t off, end, x, ihl, pend, l4, size
        cdef unsigned int et, nh, family, little, total, length, csum, sport, dport
        cdef uint64_t pseudo = 0
        cdef bint v6
        # -- link (link.decode_link) ------------------------------------------------------
        if linktype == 1:
            if n < 14:
                return 0
            et = _u16(d + 12)
            off = 14
            while et == 0x8100 or et == 0x88A8 or et == 0x9100:
                if off + 4 > n:
                    return 0
                et = _u16(d + off + 2)
                off += 4
        elif linktype == 113:
            if n < 16:
                return 0
            et = _u16(d + 14)
            off = 16
        elif linktype == 276:
            if n < 20:
                return 0
            et = _u16(d)
            off = 20
        elif (linktype == 101 or linktype == 12 or linktype == 14 or linktype == 228
              or linktype == 229):
            if n < 1:
                return 0
            et = 0x0800 if d[0] >> 4 == 4 else (0x86DD if d[0] >> 4 == 6 else 0)
            off = 0
        elif linktype == 0 or linktype == 108:
            if n < 4:
                return 0
            family = <unsigned int>d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3]
            if linktype == 0:
                little = <unsigned int>d[3] << 24 | d[2] << 16 | d[1] << 8 | d[0]
                if not (little & 0xFFFF0000 and not little & 0xFFFF):
                    family = little
            if family == 2:
                et = 0x0800
            elif family == 10 or family == 24 or family == 28 or family == 30:
                et = 0x86DD
            else:
                return 0
            off = 4
        else:
            return 0
        # -- network (ip.decode_ipv4 / decode_ipv6) ----------------------------------------
        if et == 0x0800:
            if off + 20 > n or d[off] >> 4 != 4:
                return 0
            ihl = (d[off] & 0x0F) * 4
            total = _u16(d + off + 2)
            if ihl < 20 or off + ihl > n or total < ihl:
                return 0
            end = off + total
            if end > n:                      # snapped: a warning
                return 0
            if not _verifies(_sum(d + off, ihl)):
                return 0
            if (_u16(d + off + 6) & 0x3FFF) or d[off + 9] != 17:  # MF / offset: a fragment
                return 0
            pseudo = _sum(d + off + 12, 8)
            v6 = False
            l4 = off + ihl
        elif et == 0x86DD:
            if off + 40 > n or d[off] >> 4 != 6:
                return 0
            end = off + 40 + _u16(d + off + 4)
            if end > n:
                return 0
            nh = d[off + 6]
            x = off + 40
            while nh == 0 or nh == 43 or nh == 44 or nh == 51 or nh == 60:
                if nh == 44 or x + 2 > end:  # a fragment header: not decoded
                    return 0
                size = (d[x + 1] + 2) * 4 if nh == 51 else (d[x + 1] + 1) * 8
                if x + size > end:
                    return 0
                nh = d[x]
                x += size
            pseudo = _sum(d + off + 8, 32)
            v6 = True
            if nh == 135:
                return self._mh(d + x, end - x, pseudo, True)
            if nh != 17:
                return 0
            l4 = x
        else:
            return 0
        # -- UDP (udp.decode_udp) ------------------------------------------------------------
        if l4 + 8 > end:
            return 0
        sport = _u16(d + l4)
        dport = _u16(d + l4 + 2)
        length = _u16(d + l4 + 4)
        csum = _u16(d + l4 + 6)
        if length < 8:
            return 0
        pend = l4 + length
        if pend > end:
            return 0
        if csum == 0:
            if v6:                           # zero checksum over IPv6: a warning
                return 0
        elif not _verifies(pseudo + 17 + length + _sum(d + l4, length)):
            return 0                         # bad, or offloaded: the full path says which
        if sport == 5436 or dport == 5436:
            return self._mh(d + l4 + 8, pend - l4 - 8, 0, False)
        if sport == 67 or sport == 68 or dport == 67 or dport == 68:
            return self._dhcp(d + l4 + 8, pend - l4 - 8)
        return 0

    cdef int _mh(self, const unsigned char* v, Py_ssize_t n, uint64_t pseudo,
                 bint verify) except -1:
        """mh.decode_mh over v[:n] (the IP or UDP payload): clean, and its key counted?"""
        cdef Py_ssize_t total, o, nxt, fixed, i
        cdef unsigned int t, otype
        cdef uint64_t key
        if n < 6:
            return 0
        total = (v[1] + 1) * 8
        if total > n:
            return 0
        if verify and not _verifies(pseudo + total + 135 + _sum(v, total)):
            return 0
        if v[0] != 59:                       # Payload Proto: a warning
            return 0
        t = v[2]
        key = TAG_MH << 56 | <uint64_t>t << 48
        fixed = _FIXED[t]
        if fixed < 0:                        # a type kept raw: no options
            return self._count(key)
        if total < 6 + fixed:
            return 0
        o = 6 + fixed
        while o < total:                     # mh_options.decode_options
            otype = v[o]
            if otype == 0:
                o += 1
                continue
            if o + 2 > total:
                return 0
            nxt = o + 2 + v[o + 1]
            if nxt > total:
                return 0
            if otype != 1 and not _option_ok(otype, v[o + 1]):
                return 0
            o = nxt
        for i in range(6 if fixed > 6 else fixed):
            if not (_MASKED[t] >> i) & 1:
                key |= <uint64_t>v[6 + i] << (8 * (5 - i))
        return self._count(key)

    cdef int _dhcp(self, const unsigned char* p, Py_ssize_t m) except -1:
        """dhcp_lite.scan_dhcp over p[:m] (the UDP payload): clean, and its key counted?"""
        cdef Py_ssize_t i, j, k, length, sl
        cdef unsigned int code, f, mtype = 0
        cdef uint32_t value
        if m < 240 or p[236] != 0x63 or p[237] != 0x82 or p[238] != 0x53 or p[239] != 0x63:
            return 0
        if _u16(p + 10) & 0x7FFF or p[2] > 16:    # reserved flags, hlen > 16: warnings
            return 0
        i = 240
        while True:
            if i >= m:                       # End missing
                return 0
            code = p[i]
            if code == 0:
                i += 1
                continue
            if code == 255:
                break
            if i + 1 >= m:
                return 0
            length = p[i + 1]
            j = i + 2 + length
            if j > m:
                return 0
            f = _DFLAGS[code]
            if f & D_TYPED:
                if length == 0:
                    return 0
                if f & D_RULE:
                    if length != _DLEN[code]:
                        return 0
                    if _DMIN[code]:
                        value = 0
                        for k in range(length):
                            value = value << 8 | p[i + 2 + k]
                        if value < _DMIN[code]:
                            return 0
                elif f & D_MTYPE:
                    if length != 1:
                        return 0
                    if not mtype:
                        mtype = p[i + 2] + 1
                elif f & D_ADDRLIST:
                    if length % 4:
                        return 0
                elif f & D_CLIENT_ID:
                    if length < 2:
                        return 0
                elif f & D_RELAY:            # dhcp_options.decode_relay_agent_info
                    k = 0
                    while k < length:
                        if k + 2 > length:
                            return 0
                        sl = p[i + 2 + k + 1]
                        if k + 2 + sl > length:
                            return 0
                        if _SUBADDR[p[i + 2 + k]] and sl != 4:
                            return 0
                        k += 2 + sl
                elif f & D_OVERLOAD:         # option overload: the full decoder's
                    return 0
            i = j
        return self._count(TAG_DHCP << 56 | mtype)

