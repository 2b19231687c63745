# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twin of ``dissectors.frame_lite.frame_fields``: the same walk in C, the same
tuples, None exactly where the pure function says None (tests/dissectors/
test_frame_lite.py holds both against each other and against the full decoder on every
sample, shape and fuzz mutant).  The code points, the option length rules and the text
caches are the pure module's own; only the header walk and the checksums are here."""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.stdint cimport uint64_t
from libc.string cimport memcmp

from ipaddress import IPv4Address

from dissectors import count_keys as _keys, frame_lite as _py
from dissectors.addr import ipv4 as _ipv4, ipv6 as _ipv6
from dissectors.dhcp import BROADCAST_FLAG as _BROADCAST, MAGIC_COOKIE as _COOKIE
from dissectors.dhcp import OPTIONS_OFFSET as _OPTIONS
from dissectors.dhcp_codes import CLIENT_ID_TYPE_ETHERNET as _CID_ETHERNET
from dissectors.dhcp_codes import DhcpOptionCode as _Code, RelayAgentSubOptionCode as _Sub
from dissectors.dhcp_lite import DhcpLite
from dissectors.dhcp_options import _MESSAGE_TYPES

ABI = 2  # dissectors/speedups.py

cdef int ETHERNET = _py._ETHERNET
cdef unsigned int ET_IPV4 = _py._IPV4
cdef unsigned int ET_IPV6 = _py._IPV6
cdef unsigned char TPID[65536]
cdef unsigned char EXT[256]
cdef unsigned int P_FRAGMENT = _py._FRAGMENT
cdef unsigned int P_AH = _py._AH
cdef unsigned int P_UDP = _py._UDP
cdef unsigned int P_MH = _py._MH
cdef unsigned int CNTL = _py._CNTL
cdef unsigned char DHCP_PORT[65536]
cdef unsigned int T_BU = _py._BU
cdef unsigned int T_BA = _py._BA
cdef unsigned int T_HB = _py._HB
cdef unsigned int T_BR = _py._BR
cdef unsigned int BU_P = _py._BU_P
cdef unsigned int BA_P = _py._BA_P
cdef unsigned int HB_R = _py._HB_R
cdef unsigned int BR_P = _py._BR_P
cdef unsigned int BRI = _py._BRI
cdef unsigned int BRA = _py._BRA
cdef unsigned int PROTO_NONE = _py.IPPROTO_NONE
cdef int FIXED[256]
cdef unsigned int O_MNID = _py._O_MNID
cdef unsigned int O_HNP = _py._O_HNP
cdef unsigned int O_HI = _py._O_HI
cdef unsigned int O_ATT = _py._O_ATT
cdef unsigned int O_LLI = _py._O_LLI
cdef unsigned int O_TS = _py._O_TS
cdef unsigned int O_RC = _py._O_RC
cdef unsigned int O_REQ = _py._O_REQ
cdef unsigned int O_REP = _py._O_REP
cdef unsigned int O_GW = _py._O_GW
cdef unsigned int O_DSM = _py._O_DSM
cdef unsigned char OPT[65536]  # (type << 8 | length): 0 not asked yet, 1 fits, 2 does not
# DHCP (dhcp_lite.scan_dhcp), with the rule tables of the counting path (count_keys)
cdef unsigned char DFLAGS[256]
cdef unsigned char DLEN[256]
cdef unsigned int DMIN[256]
cdef unsigned char SUBADDR[256]
cdef int D_TYPED = _keys.D_TYPED, D_RULE = _keys.D_RULE, D_MTYPE = _keys.D_MTYPE
cdef int D_ADDRLIST = _keys.D_ADDRLIST, D_CLIENT_ID = _keys.D_CLIENT_ID
cdef int D_RELAY = _keys.D_RELAY, D_OVERLOAD = _keys.D_OVERLOAD
cdef unsigned int C_PAD = _Code.PAD, C_END = _Code.END
cdef unsigned int C_REQUESTED_IP = _Code.REQUESTED_IP, C_SERVER_ID = _Code.SERVER_ID
cdef unsigned int SUB_REMOTE_ID = _Sub.REMOTE_ID
cdef unsigned int CID_ETHERNET = _CID_ETHERNET
cdef unsigned int BROADCAST = _BROADCAST
cdef Py_ssize_t OPTIONS = _OPTIONS
cdef bytes COOKIE = _COOKIE.to_bytes(4, "big")
cdef list MTYPES = [_MESSAGE_TYPES.get(i, i) for i in range(256)]

K = _py._K
cdef object K_PBU = K.PBU, K_BU = K.BU, K_PBA = K.PBA, K_BA = K.BA
cdef object K_BRI = K.BRI, K_BRA = K.BRA, K_BR = K.BR
cdef object K_HB_REQ = K.HB_REQ, K_HB_RESP = K.HB_RESP
cdef object _mn_text = _py._mn_text, _hnp_text = _py._hnp_text
cdef object SERVER = "server", RELAY = "relay"


def _init():
    cdef int i
    for i in range(65536):
        TPID[i] = i in _py._TPIDS
        DHCP_PORT[i] = i in _py._DHCP_PORTS
        OPT[i] = 0
    rules = _keys.dhcp_rules()
    sub = _keys.relay_address_codes()
    for i in range(256):
        EXT[i] = i in _py._EXT
        FIXED[i] = _py._FIXED.get(i, -1)
        DFLAGS[i], DLEN[i], DMIN[i] = rules[i]
        SUBADDR[i] = i in sub


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
    """A non-zero one's-complement sum that makes checksum.inet_checksum(...) == 0."""
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


cdef inline object _bytes(const unsigned char* p, Py_ssize_t n):
    return PyBytes_FromStringAndSize(<const char*>p, n)


cdef object _hex(const unsigned char* p, Py_ssize_t n, bint colons):
    """bytes.hex(":") of p[:n] (bytes.hex() without ``colons``)."""
    cdef char buf[3 * 256]
    cdef Py_ssize_t i, k = 0
    cdef const char* digits = b"0123456789abcdef"
    if n <= 0:
        return ""
    for i in range(n):
        if colons and i:
            buf[k] = 58  # ':'
            k += 1
        buf[k] = digits[p[i] >> 4]
        buf[k + 1] = digits[p[i] & 15]
        k += 2
    return PyUnicode_DecodeASCII(buf, k, NULL)


cdef inline object _mac(const unsigned char* p, Py_ssize_t n):
    return _hex(p, n, True)


cdef inline int _option_ok(unsigned int otype, unsigned int length) except -1:
    cdef unsigned int i = otype << 8 | length
    if OPT[i] == 0:
        OPT[i] = 1 if _py._length_ok(otype, length) else 2
    return OPT[i] == 1


cdef inline uint64_t _uint(const unsigned char* p, Py_ssize_t n) noexcept nogil:
    cdef uint64_t v = 0
    cdef Py_ssize_t i
    for i in range(n):
        v = v << 8 | p[i]
    return v


def frame_fields(linktype, data):
    """dissectors.frame_lite.frame_fields, compiled: the same tuple, or None."""
    if linktype != ETHERNET:
        return None
    cdef bytes b = data if type(data) is bytes else bytes(data)
    cdef const unsigned char* d = <const unsigned char*>PyBytes_AS_STRING(b)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(b)
    cdef Py_ssize_t off, ihl, end, x, size, l4, pend
    cdef unsigned int et, total, nh, sport, dport, length
    cdef uint64_t pseudo
    cdef bint v6
    if n < 14:
        return None
    et = _u16(d + 12)
    off = 14
    while TPID[et]:
        if off + 4 > n:
            return None
        et = _u16(d + off + 2)
        off += 4
    if et == ET_IPV4:
        if off + 20 > n or d[off] >> 4 != 4:
            return None
        ihl = (d[off] & 0x0F) * 4
        total = _u16(d + off + 2)
        if ihl < 20 or off + ihl > n or total < <unsigned int>ihl:
            return None
        end = off + total
        if end > n:
            return None
        if _u16(d + off + 6) & 0x3FFF or d[off + 9] != P_UDP:
            return None
        if not _verifies(_sum(d + off, ihl)):
            return None
        src = _ipv4(_bytes(d + off + 12, 4))
        dst = _ipv4(_bytes(d + off + 16, 4))
        pseudo = _sum(d + off + 12, 8)
        v6 = False
        l4 = off + ihl
    elif et == ET_IPV6:
        if off + 40 > n or d[off] >> 4 != 6:
            return None
        end = off + 40 + _u16(d + off + 4)
        if end > n:
            return None
        nh = d[off + 6]
        x = off + 40
        while EXT[nh]:
            if nh == P_FRAGMENT or x + 2 > end:
                return None
            size = (d[x + 1] + 2) * 4 if nh == P_AH else (d[x + 1] + 1) * 8
            if x + size > end:
                return None
            nh = d[x]
            x += size
        src = _ipv6(_bytes(d + off + 8, 16))
        dst = _ipv6(_bytes(d + off + 24, 16))
        pseudo = _sum(d + off + 8, 32)
        if nh == P_MH:
            return _mh(d, x, end, src, dst, pseudo, True, False)
        if nh != P_UDP:
            return None
        v6 = True
        l4 = x
    else:
        return None
    if l4 + 8 > end:
        return None
    sport = _u16(d + l4)
    dport = _u16(d + l4 + 2)
    length = _u16(d + l4 + 4)
    if length < 8:
        return None
    pend = l4 + length
    if pend > end:
        return None
    if d[l4 + 6] == 0 and d[l4 + 7] == 0:
        if v6:
            return None
    elif not _verifies(pseudo + P_UDP + length + _sum(d + l4, length)):
        return None
    if sport == CNTL or dport == CNTL:
        return _mh(d, l4 + 8, pend, src, dst, 0, False, True)
    if DHCP_PORT[sport] or DHCP_PORT[dport]:
        lite = _dhcp(d + l4 + 8, pend - l4 - 8)
        if lite is None:
            return None
        return (None, src, dst, _mac(d + 6, 6), _mac(d, 6), dport, lite)
    return None


cdef object _mh(const unsigned char* d, Py_ssize_t o, Py_ssize_t end, object src, object dst,
                uint64_t pseudo, bint verify, bint udp):
    cdef Py_ssize_t total, b, stop, i, j, req = -1, rep = -1
    cdef unsigned int t, otype, length, w1, w2, w3, br_type, code, status
    cdef bint proxy
    if o + 6 > end:
        return None
    total = (d[o + 1] + 1) * 8
    if total > end - o:
        return None
    if verify and not _verifies(pseudo + <uint64_t>total + P_MH + _sum(d + o, total)):
        return None
    if d[o] != PROTO_NONE:
        return None
    t = d[o + 2]
    if t != T_BU and t != T_BA and t != T_BR and t != T_HB:
        return None
    b = o + 6
    stop = o + total
    i = b + FIXED[t]
    if i > stop:
        return None
    mn_id = lli = hi = att = gw = dsm = ts = rc = None
    hnps = []
    while i < stop:
        otype = d[i]
        if otype == 0:
            i += 1
            continue
        if i + 2 > stop:
            return None
        length = d[i + 1]
        j = i + 2 + length
        if j > stop:
            return None
        if otype != 1:
            if not _option_ok(otype, length):
                return None
            if otype == O_HNP:
                hnps.append(_hnp_text(_bytes(d + i + 3, j - i - 3)))
            elif otype == O_MNID:
                if mn_id is None:
                    mn_id = _mn_text(_bytes(d + i + 3, j - i - 3))
            elif otype == O_LLI:
                if lli is None:
                    lli = _mac(d + i + 4, j - i - 4)
            elif otype == O_HI:
                if hi is None:
                    hi = d[i + 3]
            elif otype == O_ATT:
                if att is None:
                    att = d[i + 3]
            elif otype == O_REQ:
                if req < 0:
                    req = i
            elif otype == O_REP:
                if rep < 0:
                    rep = i
            elif otype == O_GW:
                if gw is None:
                    gw = _ipv4(_bytes(d + i + 4, 4))
            elif otype == O_DSM:
                if dsm is None:
                    dsm = SERVER if d[i + 3] & 1 else RELAY
            elif otype == O_TS:
                if ts is None:
                    ts = <double>_uint(d + i + 2, 8) / 65536.0  # exact: a power of 2
            elif otype == O_RC:
                if rc is None:
                    rc = _uint(d + i + 2, 4)
        i = j
    w1 = _u16(d + b)
    w2 = _u16(d + b + 2)
    w3 = _u16(d + b + 4)
    hoa_request = _ipv4(_bytes(d + req + 4, 4)) if req >= 0 else None
    mac_src = _mac(d + 6, 6)
    if t == T_HB:
        kind = K_HB_RESP if w1 & HB_R else K_HB_REQ
        return (kind, src, dst, mac_src, udp, <uint64_t>w2 << 16 | w3, True, None, None,
                None, None, None, None, None, None, None, None, None, (), None, None, None,
                rc, None)
    if t == T_BR:
        br_type = d[b]
        code = d[b + 1]
        proxy = (w3 & BR_P) != 0
        if br_type == BRI:
            return (K_BRI, src, dst, mac_src, udp, w2, proxy, None, None, code, mn_id, None,
                    None, None, hoa_request, None, None, None, tuple(hnps), None, None, None,
                    None, None)
        kind = K_BRA if br_type == BRA else K_BR
        return (kind, src, dst, mac_src, udp, w2, proxy, None, code, None, mn_id, None, None,
                None, hoa_request, None, None, None, tuple(hnps), None, None, None, None,
                (kind, code))
    if t == T_BU:
        proxy = (w2 & BU_P) != 0
        seq = w1
        lifetime = w3
        status_obj = None
        kind = K_PBU if proxy else K_BU
        key = None
    else:
        status = d[b]
        proxy = (d[b + 1] & BA_P) != 0
        seq = w2
        lifetime = w3
        status_obj = status
        kind = K_PBA if proxy else K_BA
        key = (kind, status)
    if rep >= 0:
        hoa_reply = _ipv4(_bytes(d + rep + 4, 4))
        hoa_plen = d[rep + 3] >> 2
        hoa_status = d[rep + 2]
    else:
        hoa_reply = hoa_status = None
        hoa_plen = (_u16(d + req + 2) >> 10) if req >= 0 else None
    return (kind, src, dst, mac_src, udp, seq, proxy, lifetime * 4, status_obj, None, mn_id,
            lli, hi, att, hoa_request, hoa_reply, hoa_plen, hoa_status, tuple(hnps), gw, dsm,
            ts, None, key)


cdef object _dhcp(const unsigned char* p, Py_ssize_t m):
    """dhcp_lite.scan_dhcp over p[:m] (a UDP payload): the DhcpLite, or None."""
    cdef Py_ssize_t i, j, k, sl
    cdef unsigned int code, f, length, htype, hlen
    cdef uint64_t value
    cdef bint cid_seen = False, rai_seen = False, mtype_seen = False
    if m < OPTIONS or memcmp(p + OPTIONS - 4, <const char*>COOKIE, 4) != 0:
        return None
    htype = p[1]
    hlen = p[2]
    if _u16(p + 10) & ~BROADCAST & 0xFFFF or hlen > 16:
        return None
    mtype = cid = req = sid = rai = None
    i = OPTIONS
    while True:
        if i >= m:
            return None
        code = p[i]
        if code == C_PAD:
            i += 1
            continue
        if code == C_END:
            break
        if i + 1 >= m:
            return None
        length = p[i + 1]
        j = i + 2 + length
        if j > m:
            return None
        f = DFLAGS[code]
        if f & D_TYPED:
            if length == 0:
                return None
            if f & D_RULE:
                if length != DLEN[code]:
                    return None
                if DMIN[code] and _uint(p + i + 2, length) < DMIN[code]:
                    return None
                if code == C_REQUESTED_IP:
                    if req is None:
                        req = _ipv4(_bytes(p + i + 2, 4))
                elif code == C_SERVER_ID and sid is None:
                    sid = _ipv4(_bytes(p + i + 2, 4))
            elif f & D_MTYPE:
                if length != 1:
                    return None
                if not mtype_seen:
                    mtype_seen = True
                    mtype = MTYPES[p[i + 2]]
            elif f & D_ADDRLIST:
                if length % 4:
                    return None
            elif f & D_CLIENT_ID:
                if length < 2:
                    return None
                if not cid_seen:
                    cid_seen = True
                    if p[i + 2] == CID_ETHERNET and length == 7:
                        cid = _mac(p + i + 3, 6)
            elif f & D_RELAY:                # dhcp_options.decode_relay_agent_info
                k = 0
                remote = None
                while k < length:
                    if k + 2 > length:
                        return None
                    sl = p[i + 2 + k + 1]
                    if k + 2 + sl > length:
                        return None
                    if SUBADDR[p[i + 2 + k]] and sl != 4:
                        return None
                    if remote is None and p[i + 2 + k] == SUB_REMOTE_ID:
                        remote = IPv4Address(_bytes(p + i + 4 + k, sl)) if sl == 4 else False
                    k += 2 + sl
                if not rai_seen:
                    rai_seen = True
                    rai = remote if remote is not False else None
            elif f & D_OVERLOAD:
                return None
        i = j
    if htype == 1:
        chaddr = _hex(p + 28, hlen, hlen == 6)
    else:
        chaddr = ""
    return DhcpLite(p[0], htype, p[3], <uint64_t>_u16(p + 4) << 16 | _u16(p + 6), chaddr,
                    _ipv4(_bytes(p + 12, 4)), _ipv4(_bytes(p + 16, 4)),
                    _ipv4(_bytes(p + 24, 4)), mtype, cid, req, sid, rai)
