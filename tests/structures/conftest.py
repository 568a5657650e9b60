"""Fixtures for the structures tests."""

from __future__ import annotations

import pytest
from .structures_reference import diamond


@pytest.fixture
def si64():
    return diamond((2, 2, 2))
