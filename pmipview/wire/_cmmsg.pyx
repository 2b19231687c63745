# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of the IPv4/UDP transport's reads and batched sends: ``recvmmsg`` and
``sendmmsg`` (Linux), which Python's socket module does not have.

``Batches(bu)`` (``bu``: the MH type of a PBU) holds the buffers of one
:class:`~pmipview.wire.transport.Udp4Transport` ``t``:

* ``receive(t, limit)`` is ``_Socketed.receive_raw`` (its pure twin, which loops ``recvfrom``
  and ``recvmsg``): up to ``limit`` datagrams as (payload, peer, local address), oldest
  first, the same shedding of the PBUs that waited too long (head of the queue only, while
  the transport is behind), the same ``shed`` and ``_behind`` left on the transport, the
  same skipped errors.  It reads 64 datagrams a syscall, and stops at the first short batch
  (the queue is empty) instead of asking once more for the ``EAGAIN``.
* ``send(t, items)`` is ``_Socketed._send_queued``: each (payload, (host, port), source or None)
  in order, ``sendmmsg`` 64 at a time (a source asks for ``IP_PKTINFO``, as ``send`` does on
  a wildcard socket); returns how many failed (counted, never raised).

tests/wire/test_mmsg.py runs both twins on the same traffic.
"""

import time

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.exc cimport PyErr_CheckSignals
from cpython.unicode cimport PyUnicode_FromString
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memset

ABI = 2  # dissectors/speedups.py

cdef extern from *:
    """
    #include <sys/socket.h>
    #include <netinet/in.h>
    #include <arpa/inet.h>
    #include <sys/time.h>
    #include <errno.h>
    #define PV_SLOTS 64
    #define PV_BUF 65535
    #define PV_ANC 128
    typedef union { char buf[PV_ANC]; struct cmsghdr align; } pv_anc_t;
    typedef union { char buf[CMSG_SPACE(sizeof(struct in_pktinfo))]; struct cmsghdr align; } pv_info_t;
    typedef struct {
        struct mmsghdr msgs[PV_SLOTS];
        struct iovec iov[PV_SLOTS];
        struct sockaddr_in names[PV_SLOTS];
        pv_anc_t control[PV_SLOTS];
        char *bufs;
    } pv_rx;
    typedef struct {
        struct mmsghdr msgs[PV_SLOTS];
        struct iovec iov[PV_SLOTS];
        struct sockaddr_in names[PV_SLOTS];
        pv_info_t control[PV_SLOTS];
    } pv_tx;

    static int pv_errno(void) { return errno; }
    static int pv_again(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

    /* up to want datagrams (MSG_DONTWAIT), with their ancillary data when asked */
    static int pv_recv(pv_rx *rx, int fd, unsigned int want, int ancillary) {
        for (unsigned int i = 0; i < want; i++) {
            struct msghdr *m = &rx->msgs[i].msg_hdr;
            rx->iov[i].iov_base = rx->bufs + (size_t)i * PV_BUF;
            rx->iov[i].iov_len = PV_BUF;
            m->msg_name = &rx->names[i];
            m->msg_namelen = sizeof(struct sockaddr_in);
            m->msg_iov = &rx->iov[i];
            m->msg_iovlen = 1;
            m->msg_control = ancillary ? rx->control[i].buf : NULL;
            m->msg_controllen = ancillary ? PV_ANC : 0;
            m->msg_flags = 0;
        }
        return recvmmsg(fd, rx->msgs, want, MSG_DONTWAIT, NULL);
    }

    /* what recvmsg's ancillary list gives _Socketed._read: the last SO_TIMESTAMP (at least
       16 bytes of data) and the last IP_PKTINFO (at least 12) */
    static void pv_ancillary(struct msghdr *m, int *has_at, double *at, int *has_dst,
                             unsigned char *dst) {
        *has_at = 0; *has_dst = 0;
        if (m->msg_control == NULL) return;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
            size_t len = c->cmsg_len >= CMSG_LEN(0) ? c->cmsg_len - CMSG_LEN(0) : 0;
            unsigned char *data = CMSG_DATA(c);
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMP && len >= 16) {
                long sec, usec;
                memcpy(&sec, data, sizeof(long));
                memcpy(&usec, data + sizeof(long), sizeof(long));
                *at = (double)sec + (double)usec / 1e6;
                *has_at = 1;
            } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && len >= 12) {
                memcpy(dst, data + 8, 4);
                *has_dst = 1;
            }
        }
    }

    static unsigned int pv_addr(pv_rx *rx, int i) { return rx->names[i].sin_addr.s_addr; }
    static int pv_port(pv_rx *rx, int i) { return ntohs(rx->names[i].sin_port); }
    static int pv_ntop(unsigned int addr, char *out) {
        struct in_addr a; a.s_addr = addr;
        return inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN) != NULL;
    }

    /* slot i of tx: payload to host:port, from src (4 bytes) when not NULL; 0 when the
       host is not an IPv4 address in dotted form (the caller sends it the pure way) */
    static int pv_fill(pv_tx *tx, int i, const char *payload, size_t size, const char *host,
                       int port, const char *src) {
        struct sockaddr_in *sa = &tx->names[i];
        memset(sa, 0, sizeof(*sa));
        sa->sin_family = AF_INET;
        sa->sin_port = htons((unsigned short)port);
        if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) return 0;
        struct msghdr *m = &tx->msgs[i].msg_hdr;
        tx->iov[i].iov_base = (void *)payload;
        tx->iov[i].iov_len = size;
        m->msg_name = sa;
        m->msg_namelen = sizeof(*sa);
        m->msg_iov = &tx->iov[i];
        m->msg_iovlen = 1;
        m->msg_flags = 0;
        if (src != NULL) {
            memset(tx->control[i].buf, 0, sizeof(tx->control[i].buf));
            m->msg_control = tx->control[i].buf;
            m->msg_controllen = sizeof(tx->control[i].buf);
            struct cmsghdr *c = CMSG_FIRSTHDR(m);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
            struct in_pktinfo info;
            memset(&info, 0, sizeof(info));
            memcpy(&info.ipi_spec_dst, src, 4);
            memcpy(CMSG_DATA(c), &info, sizeof(info));
        } else {
            m->msg_control = NULL;
            m->msg_controllen = 0;
        }
        return 1;
    }

    static int pv_send(pv_tx *tx, int fd, int first, unsigned int n) {
        return sendmmsg(fd, tx->msgs + first, n, 0);
    }
    """
    ctypedef struct pv_rx:
        char *bufs
    ctypedef struct pv_tx:
        pass
    int PV_SLOTS
    int PV_BUF
    int EINTR
    int pv_errno()
    bint pv_again(int e)
    int pv_recv(pv_rx *rx, int fd, unsigned int want, int ancillary)
    void pv_ancillary_at "pv_ancillary"(void *m, int *has_at, double *at, int *has_dst,
                                         unsigned char *dst)
    unsigned int pv_addr(pv_rx *rx, int i)
    int pv_port(pv_rx *rx, int i)
    int pv_ntop(unsigned int addr, char *out)
    int pv_fill(pv_tx *tx, int i, const char *payload, size_t size, const char *host,
                int port, const char *src)
    int pv_send(pv_tx *tx, int fd, int first, unsigned int n)

cdef extern from *:
    """
    static void *pv_hdr(pv_rx *rx, int i) { return &rx->msgs[i].msg_hdr; }
    static unsigned int pv_len(pv_rx *rx, int i) { return rx->msgs[i].msg_len; }
    """
    void *pv_hdr(pv_rx *rx, int i)
    unsigned int pv_len(pv_rx *rx, int i)

_CACHE_MAX = 4096      # peer host texts remembered (as transport._V4_OF)
cdef dict _HOSTS = {}  # s_addr -> its dotted text (one str per MAG: the fast path's key)
_time = time.time


cdef object _host(unsigned int addr):
    cdef char text[16]
    host = _HOSTS.get(addr)
    if host is None:
        if not pv_ntop(addr, text):
            raise OSError("inet_ntop failed")
        if len(_HOSTS) >= _CACHE_MAX:
            _HOSTS.clear()
        host = _HOSTS[addr] = PyUnicode_FromString(text)
    return host


cdef class Batches:
    cdef pv_rx *rx
    cdef pv_tx *tx
    cdef int bu

    def __cinit__(self, int bu):
        self.rx = <pv_rx *>malloc(sizeof(pv_rx))
        self.tx = <pv_tx *>malloc(sizeof(pv_tx))
        if self.rx == NULL or self.tx == NULL:
            raise MemoryError()
        memset(self.rx, 0, sizeof(pv_rx))
        memset(self.tx, 0, sizeof(pv_tx))
        # 64 x 64 kB of address space; only the pages datagrams are written to are resident
        self.rx.bufs = <char *>malloc(<size_t>PV_SLOTS * PV_BUF)
        if self.rx.bufs == NULL:
            raise MemoryError()
        self.bu = bu

    def __dealloc__(self):
        if self.rx != NULL:
            free(self.rx.bufs)
            free(self.rx)
        free(self.tx)

    def receive(self, t, int limit):
        cdef int fd = t.sock.fileno()
        cdef object shed_after = t.shed_after
        cdef bint stamped = shed_after is not None and t._behind
        cdef double after = shed_after if stamped else 0.0
        cdef bint wild = t._wild
        cdef object local = t.local
        cdef object v4 = t._dst_of
        cdef long shed = 0
        cdef int left = limit, want, n, i, e, has_at, has_dst
        cdef double at
        cdef unsigned char dst[4]
        cdef unsigned int size
        cdef char *buf
        cdef list got = []
        while left > 0:
            want = PV_SLOTS if left > PV_SLOTS else left
            n = pv_recv(self.rx, fd, want, stamped or wild)
            if n < 0:
                e = pv_errno()
                if pv_again(e):
                    break
                if e == EINTR:       # as Python's recvfrom: run the handlers, read again
                    PyErr_CheckSignals()
                    continue
                left -= 1            # an ICMP error (ECONNREFUSED): not ours, skipped
                continue
            left -= n
            for i in range(n):
                size = pv_len(self.rx, i)
                buf = self.rx.bufs + <size_t>i * PV_BUF
                pv_ancillary_at(pv_hdr(self.rx, i), &has_at, &at, &has_dst, dst)
                if stamped and has_at:
                    if (_time() - at > after and size > 2
                            and <unsigned char>buf[2] == self.bu):
                        shed += 1
                        continue
                    stamped = False  # fresh: everything behind it is fresher
                payload = PyBytes_FromStringAndSize(buf, size)
                peer = (_host(pv_addr(self.rx, i)), pv_port(self.rx, i))
                got.append((payload, peer,
                            v4(PyBytes_FromStringAndSize(<char *>dst, 4)) if has_dst
                            else local))
            if n < want:
                break                # the queue is empty: no read for the EAGAIN
        if shed:
            t.shed += shed
        t._behind = len(got) > 1 or shed != 0
        return got

    def send(self, t, list items):
        """Send each (payload, (host, port), source or None) in order; how many failed."""
        cdef int fd = t.sock.fileno()
        cdef int n = 0, failed = 0
        cdef const char *src
        cdef const char *data
        cdef Py_ssize_t size
        for payload, address, source in items:
            data = NULL
            if type(payload) is bytearray:
                data = PyByteArray_AS_STRING(payload)
                size = PyByteArray_GET_SIZE(payload)
            elif type(payload) is bytes:
                data = PyBytes_AS_STRING(payload)
                size = PyBytes_GET_SIZE(payload)
            ok = (data != NULL and type(address) is tuple and len(address) == 2
                  and type(address[0]) is str and type(address[1]) is int
                  and 0 <= address[1] <= 65535
                  and (source is None or (type(source) is bytes and len(source) == 4)))
            if ok:
                host = (<str>address[0]).encode("ascii", "replace")
                src = NULL if source is None else PyBytes_AS_STRING(source)
                ok = pv_fill(self.tx, n, data, size, host, address[1], src)
            if ok:
                n += 1
                if n == PV_SLOTS:
                    failed += self._flush(fd, n)
                    n = 0
                continue
            failed += self._flush(fd, n)  # the pure way, in its place in the order
            n = 0
            if not t._send_one(payload, address, source):  # an item sendmmsg cannot take
                failed += 1
        return failed + self._flush(fd, n)

    cdef int _flush(self, int fd, int n) except -1:
        cdef int first = 0, r, failed = 0
        while first < n:
            r = pv_send(self.tx, fd, first, n - first)
            if r < 0:
                if pv_errno() == EINTR:
                    PyErr_CheckSignals()
                    continue
                failed += 1          # this one (EAGAIN, ENOBUFS...): counted, never raised
                first += 1
            elif r == 0:             # sent nothing and said no error: as a failure, go on
                failed += 1
                first += 1
            else:
                first += r
        return failed
