"""Fixtures of the transport tests."""

from __future__ import annotations

import pytest

from sianode.transport import diamond_t_network

from .transport_reference import A_SI


@pytest.fixture
def pure_json(tmp_path):
    """A network file of the perfect 1-cell diamond T lattice (barrier 0.58 eV)."""
    path = tmp_path / "pure.json"
    diamond_t_network(1, A_SI, saddle_energy_eV=0.58).write_json(path)
    return path
