"""pmipview: Proxy Mobile IPv6 (RFC 5213) with IPv4 support (RFC 5844) analyzer."""

__version__ = "0.1.0"

import dissectors.speedups  # noqa: F401 - first: the compiled modules or PMIPVIEW_PURE
