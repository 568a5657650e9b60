"""The calculator operations in one place: single point, relax, CI-NEB, bcc-Li reference.

Plain functions over ASE ``Atoms``; each takes ``calculator`` as a registry name, a
:class:`~sianode.calculators.registry.CalculatorSpec` or an ASE calculator.
"""

from __future__ import annotations

from sianode.calculators.neb import neb
from sianode.calculators.reference import bcc_li_reference
from sianode.calculators.relax import relax, single_point
from sianode.calculators.results import NEBResult, ReferenceResult, RelaxResult, SinglePointResult

__all__ = ["single_point", "relax", "neb", "bcc_li_reference",
           "SinglePointResult", "RelaxResult", "NEBResult", "ReferenceResult"]
