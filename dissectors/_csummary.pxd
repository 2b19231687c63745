# cython: language_level=3
# The compiled counting path of `dissect --summary` (see _csummary.pyx): declared here so
# that the compiled record loops (pmipview/sources/_creader.pyx) call Summary.take as a C
# function on every frame the pre-filter lets through.

from libc.stdint cimport int64_t, uint64_t

cdef enum:
    SLOTS = 1024      # distinct keys kept (open addressing); a full table hands frames on


cdef class Summary:
    cdef readonly long long decoded     # frames counted here (each decoded cleanly)
    cdef readonly long long handed_on   # frames the pre-filter let through, left to decode
    cdef int used
    cdef uint64_t keys[SLOTS]
    cdef int64_t counts[SLOTS]

    cdef int take(self, long long linktype, const unsigned char* d,
                  Py_ssize_t n) except -1
    cdef int _take(self, long long linktype, const unsigned char* d,
                   Py_ssize_t n) except -1
    cdef int _mh(self, const unsigned char* v, Py_ssize_t n, uint64_t pseudo,
                 bint verify) except -1
    cdef int _dhcp(self, const unsigned char* p, Py_ssize_t m) except -1
    cdef int _count(self, uint64_t key) except -1
