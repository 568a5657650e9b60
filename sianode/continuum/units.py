"""Parse lengths with units for the command line (``75nm``, ``1um``, ``7.5e-8``)."""

from __future__ import annotations

import math
import re

from sianode.errors import InputError

_SCALE = {"": 1.0, "m": 1.0, "mm": 1e-3, "um": 1e-6, "µm": 1e-6, "micron": 1e-6, "nm": 1e-9, "a": 1e-10, "å": 1e-10}
_PATTERN = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Zµå]*)\s*$")


def parse_length_m(text: str | float) -> float:
    """Length in m from ``"75nm"``, ``"1um"``, ``"0.1 mm"``, ``"7.5e-8"`` (bare number = m).

    Raises
    ------
    InputError
        Unparseable text, unknown unit, or a length that is not positive.
    """
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = _PATTERN.match(text)
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _SCALE:
            raise InputError(
                f"radius {text!r} is not a length; use a number in m or a unit: nm, um, mm, m (e.g. 75nm)"
            )
        value = float(match.group(1)) * _SCALE[unit]
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"radius = {text!r} is not allowed; it must be a positive length")
    return value


__all__ = ["parse_length_m"]
