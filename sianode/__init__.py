"""sianode: dopants and lithium in silicon battery anodes.

The pipeline, one subpackage per stage (data flows one way):

campaign spec -> :mod:`sianode.structures` -> :mod:`sianode.workflows` ->
:mod:`sianode.calculators` -> :mod:`sianode.store` -> :mod:`sianode.analysis` ->
:mod:`sianode.continuum` -> plots.

Importing :mod:`sianode` does no work: heavy libraries are imported inside the
functions that need them.
"""

from __future__ import annotations

from sianode.errors import CalculationFailed, InputError, SianodeError

__version__ = "0.1.0"

__all__ = ["CalculationFailed", "InputError", "SianodeError", "__version__"]
