"""tests/netns: every test needs root, namespaces and the lab's tools (topo.require_lab)."""

from __future__ import annotations

import pytest

from tests.netns.topo import require_lab


@pytest.fixture
def netns_lab() -> None:
    require_lab()
