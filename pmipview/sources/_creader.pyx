# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled twins of the record loops of ``pcap.py`` and ``pcapng.py``.

``iter_pcap(reader, counts)`` and ``iter_pcapng(reader, counts)`` yield the very same
``Record`` objects as ``PcapReading._iter_pcap`` / ``PcapngReading._iter_pcapng``, set
the same ``reader.problem`` at the same offsets, and leave every block other than packet
records to the reader's own Python methods (they read from the same stream), so a capture
reads identically on both paths (tests/sources/test_creader.py).

With ``counts`` (a :class:`Counts`), they also run the pre-filter (``classify_c``, the
twin of ``dissectors.prefilter.classify``) on each frame and yield only the frames that may
carry signaling; the others are only counted: no ``Record``, no Python call for them.
``packets.scan`` turns the counts into its tally.  With a ``summary`` as well (a
``dissectors._csummary.Summary``, for ``dissect --summary``), each frame the pre-filter
lets through goes to ``summary.take`` first, and becomes a ``Record`` only when it was not
sure of it.

From a file (not a pipe, not gzip for pcap), each record is read together with the header of the next one
(one ``read`` call a record instead of two), as the pure pcapng loop does.
"""

import zlib

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdint cimport int64_t, uint32_t, uint64_t

from dissectors._cprefilter cimport C_FRAGMENT, C_OTHER, classify_c
from dissectors._csummary cimport Summary

from pmipview.sources.capcommon import _seekable, _Stop
from pmipview.sources.records import Record, _RecordBuilder

ABI = 2  # dissectors/speedups.py

cdef int64_t _NS = 1000000000
cdef uint32_t _BT_SHB = 0x0A0D0D0A
cdef uint32_t _BT_SPB = 3
cdef uint32_t _BT_OPB = 2
cdef uint32_t _BT_EPB = 6
cdef uint32_t MAX_RECORD = 256 * 1024 * 1024
_NONPACKET_FRAME_BLOCKS = frozenset({9, 0x204, 0x208, 0x00000BAD, 0x40000BAD})
_STREAM_ERRORS = (OSError, EOFError, zlib.error)


cdef class Counts:
    """What the pre-filtering loops saw: every frame (passed or not) and those they dropped."""

    cdef public long long frames      # every frame read
    cdef public long long nbytes      # their captured bytes
    cdef public long long ignored     # dropped by the pre-filter (OTHER or FRAGMENT)
    cdef public long long fragments   # of which non-first IP fragments
    cdef public object first          # timestamp of the first frame (ns), None before
    cdef public object last           # of the last frame read
    cdef public object lo             # earliest and latest timestamps, None before
    cdef public object hi

    def __init__(self):
        self.first = self.last = self.lo = self.hi = None


cdef inline uint32_t _u32(const unsigned char* p, bint little) noexcept nogil:
    if little:
        return p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24)
    return p[3] | (<uint32_t>p[2] << 8) | (<uint32_t>p[1] << 16) | (<uint32_t>p[0] << 24)


cdef inline bint _count(Counts counts, object ts, long long caplen, int cls):
    """Count one frame; True when the pre-filter drops it."""
    counts.frames += 1
    counts.nbytes += caplen
    counts.last = ts
    if counts.first is None:
        counts.first = counts.lo = counts.hi = ts
    elif ts > counts.hi:
        counts.hi = ts
    elif ts < counts.lo:
        counts.lo = ts
    if cls == C_OTHER or cls == C_FRAGMENT:
        counts.ignored += 1
        if cls == C_FRAGMENT:
            counts.fragments += 1
        return True
    return False


cdef inline int _classify_bytes(long long linktype, bytes data):
    return classify_c(linktype, <const unsigned char*>PyBytes_AS_STRING(data),
                      PyBytes_GET_SIZE(data))


cdef inline int _take_bytes(Summary summary, long long linktype, bytes data) except -1:
    return summary.take(linktype, <const unsigned char*>PyBytes_AS_STRING(data),
                        PyBytes_GET_SIZE(data))


cdef inline object _record(long long frame, object ts, object lt, bytes data, object gid,
                           object orig, object comment):
    r = _RecordBuilder(frame, ts, lt, data, gid, orig, comment)
    r.__class__ = Record
    return r


def iter_pcap(reader, Counts counts=None, Summary summary=None):
    """The records of a pcap file whose header ``reader`` has read (see the module doc)."""
    f = reader._f
    read = f.read
    cdef bint little = reader._bo == "<"
    cdef int64_t frac_ns = 1 if reader._nano else 1000
    cdef uint64_t limit = reader._limit
    lt = reader.linktype
    # not from gzip: a corrupt stream must cost the same records as in the pure loop
    cdef bint ahead = _seekable(reader._raw) and not reader._gzip
    cdef bint filtered = counts is not None
    cdef bint summing = filtered and summary is not None
    cdef long long frame = 0
    cdef long long off = 24
    cdef const unsigned char* p
    cdef Py_ssize_t have
    cdef uint32_t sec, frac, caplen, orig, nsec, nfrac, ncaplen, norig
    cdef int64_t ts
    cdef bint pending = False   # the next record's header came with this record
    cdef bytes hdr, body, data
    try:
        while True:
            if pending:
                sec, frac, caplen, orig = nsec, nfrac, ncaplen, norig
                pending = False
            else:
                hdr = read(16)
                if PyBytes_GET_SIZE(hdr) != 16:
                    if PyBytes_GET_SIZE(hdr):
                        reader._fail(
                            off,
                            f"truncated record header at offset {off}: "
                            f"need 16 bytes, have {PyBytes_GET_SIZE(hdr)}",
                            frame + 1,
                        )
                    return
                p = <const unsigned char*>PyBytes_AS_STRING(hdr)
                sec, frac = _u32(p, little), _u32(p + 4, little)
                caplen, orig = _u32(p + 8, little), _u32(p + 12, little)
            if caplen > limit:
                reader._fail(
                    off,
                    f"corrupt record at offset {off}: captured length {caplen} "
                    f"exceeds the maximum {limit}",
                    frame + 1,
                )
                return
            body = read(caplen + 16) if ahead else read(caplen)
            have = PyBytes_GET_SIZE(body)
            if have < caplen:
                reader._fail(
                    off,
                    f"truncated record at offset {off}: need {16 + caplen} bytes, "
                    f"have {16 + have}",
                    frame + 1,
                )
                return
            p = <const unsigned char*>PyBytes_AS_STRING(body)
            if have == caplen + 16:
                q = p + caplen
                nsec, nfrac = _u32(q, little), _u32(q + 4, little)
                ncaplen, norig = _u32(q + 8, little), _u32(q + 12, little)
                pending = True
            frame += 1
            ts = <int64_t>sec * _NS + <int64_t>frac * frac_ns
            if filtered and _count(counts, ts, caplen, classify_c(lt, p, caplen)):
                pass
            elif summing and summary.take(lt, p, caplen):
                pass
            else:
                data = body if have == caplen else body[:caplen]
                reader.frames_read = frame
                yield _record(frame, ts, lt, data, 0, orig, None)
            off += 16 + caplen
            if ahead and not pending and have > caplen:  # a partial header after the record
                reader.frames_read = frame
                reader._fail(
                    off,
                    f"truncated record header at offset {off}: "
                    f"need 16 bytes, have {have - caplen}",
                    frame + 1,
                )
                return
    except _STREAM_ERRORS as e:
        reader._stream_error(e, off, frame + 1)
    finally:
        reader.frames_read = frame


def iter_pcapng(reader, Counts counts=None, Summary summary=None):
    """The records of a pcapng file whose first section header ``reader`` has read."""
    read = reader._f.read
    cdef bint filtered = counts is not None
    cdef bint summing = filtered and summary is not None
    cdef long long frame = 0
    ts = 0
    cdef long long off = reader._next_off
    cdef Py_ssize_t ahead = 0 if reader._lookahead else -8
    cdef long long btype, blen, nbtype, nblen
    cdef uint32_t trailer, ifid, tsh, tsl, caplen, orig
    cdef Py_ssize_t have, end, nifs
    cdef uint64_t ticks
    cdef int64_t mul, div, tsoff_c
    cdef bint little, fast
    cdef const unsigned char* p
    cdef bytes body
    cdef list ifs
    cdef tuple iface
    try:
        btype, blen = reader._next_header(off)
        while True:
            # (re)bound at every section change: byte order and interfaces
            little = reader._bo == "<"
            ifs = reader._ifs
            while True:
                if btype == _BT_EPB:
                    if blen < 32 or blen & 3 or blen > MAX_RECORD:
                        reader._bad_length(off, btype, blen, frame + 1)
                        return
                    body = read(blen + ahead)
                    have = PyBytes_GET_SIZE(body)
                    p = <const unsigned char*>PyBytes_AS_STRING(body)
                    if have == blen:
                        trailer = _u32(p + blen - 12, little)
                        nbtype = _u32(p + blen - 8, little)
                        nblen = _u32(p + blen - 4, little)
                    else:
                        trailer, nbtype, nblen = reader._short_tail(body, blen, off, frame + 1)
                    if trailer != blen:
                        reader._bad_trailer(off, btype, blen, trailer, frame + 1)
                        return
                    ifid, tsh, tsl = _u32(p, little), _u32(p + 4, little), _u32(p + 8, little)
                    caplen, orig = _u32(p + 12, little), _u32(p + 16, little)
                    end = 20 + <Py_ssize_t>caplen
                    if end > blen - 12:
                        reader._fail(
                            off,
                            f"corrupt enhanced packet block at offset {off}: captured "
                            f"length {caplen} exceeds the block length {blen}",
                            frame + 1,
                        )
                        return
                    nifs = len(ifs)
                    if ifid >= nifs:
                        reader._no_interface(off, ifid, frame + 1)
                        return
                    iface = <tuple>ifs[ifid]
                    lt, pmul, pdiv, tsoff, gid = iface
                    ticks = (<uint64_t>tsh << 32) | tsl
                    # the pure loop's arithmetic in C when it cannot overflow, else in Python
                    fast = pdiv == 1 and -(1 << 62) < tsoff < (1 << 62)
                    if fast:
                        mul = pmul
                        tsoff_c = tsoff
                        fast = mul > 0 and ticks < <uint64_t>((1 << 62) // mul)
                    if fast:
                        ts = <int64_t>ticks * mul + tsoff_c
                    else:
                        ts = ticks * pmul // pdiv + tsoff
                    frame += 1
                    if filtered and _count(counts, ts, caplen, classify_c(lt, p + 20, caplen)):
                        pass
                    elif summing and summary.take(lt, p + 20, caplen):
                        pass
                    else:
                        comment = None
                        if blen - 12 > ((end + 3) & ~3):
                            comment = reader._comment(body, (end + 3) & ~3, blen - 12, off)
                        reader.frames_read = frame
                        yield _record(frame, ts, lt, body[20:end], gid, orig, comment)
                    off += blen
                    btype = nbtype
                    blen = nblen
                    continue
                if btype < 0:
                    if btype == -2:  # not read ahead
                        btype, blen = reader._next_header(off)
                        continue
                    if blen:  # the end, after a block read together with its successor
                        reader._truncated_header(off, blen)
                    return
                if btype == _BT_SHB:
                    off = reader._section(_header(btype, blen, little), off)
                    btype, blen = reader._next_header(off)
                    break
                if btype == _BT_SPB or btype == _BT_OPB:
                    r = reader._spb_opb(btype, blen, off, frame + 1, ts)
                    frame += 1
                    ts = r.ts_ns
                    if not (filtered and _count(counts, ts, len(r.data),
                                                _classify_bytes(r.linktype, r.data))
                            or summing and _take_bytes(summary, r.linktype, r.data)):
                        reader.frames_read = frame
                        yield r
                else:
                    reader._other_block(btype, blen, off)
                    if btype in _NONPACKET_FRAME_BLOCKS:
                        frame += 1
                        reader.skipped_frames += 1
                off += blen
                btype, blen = reader._next_header(off)
    except _Stop:
        return
    except _STREAM_ERRORS as e:
        reader._stream_error(e, off, frame + 1)
    finally:
        reader.frames_read = frame


cdef bytes _header(long long btype, long long blen, bint little):
    """The 8 header bytes of a block, as the pure loop re-packs them for ``_section``."""
    cdef unsigned char h[8]
    cdef int i
    for i in range(4):
        if little:
            h[i] = (btype >> (8 * i)) & 0xFF
            h[4 + i] = (blen >> (8 * i)) & 0xFF
        else:
            h[3 - i] = (btype >> (8 * i)) & 0xFF
            h[7 - i] = (blen >> (8 * i)) & 0xFF
    return h[:8]
