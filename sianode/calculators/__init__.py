"""Named, offline, provenance-recorded ASE calculators and the operations run with them.

``get_calculator(name, **parameters)`` returns a :class:`CalculatorSpec`; ``single_point``,
``relax``, ``neb`` and ``bcc_li_reference`` accept a spec, a name or an ASE calculator.
Importing this package is cheap: torch and the ML models load only when a calculator is made.
"""

from __future__ import annotations

from sianode.calculators import backends as _backends  # noqa: F401  (registers the calculators)
from sianode.calculators.registry import (
    DEFAULT_CALCULATOR,
    CalculatorSpec,
    available_calculators,
    get_calculator,
    set_threads,
)
from sianode.calculators.tasks import (  # the functions shadow their submodules' names
    NEBResult,
    ReferenceResult,
    RelaxResult,
    SinglePointResult,
    bcc_li_reference,
    neb,
    relax,
    single_point,
)

__all__ = [
    "DEFAULT_CALCULATOR", "CalculatorSpec", "available_calculators", "get_calculator", "set_threads",
    "single_point", "relax", "neb", "bcc_li_reference",
    "SinglePointResult", "RelaxResult", "NEBResult", "ReferenceResult",
]
