"""What the workflows and analysis need of the objects they are handed, as ``typing.Protocol`` s.

Public functions of :mod:`sianode.workflows` and :mod:`sianode.analysis` take these instead of
``Any``; the concrete classes conform structurally (nothing here is imported at run time by
them, and nothing has to inherit from these):

=====================  ==============================================  ==========================
protocol               what it is                                      concrete class
=====================  ==============================================  ==========================
:class:`CalculatorLike`  a calculator with its identity and provenance  ``sianode.calculators.CalculatorSpec``
:class:`StoreLike`       the results store (content-keyed documents)     :class:`sianode.store.ResultStore`
:class:`LaunchPadLike`   where a campaign's Fireworks are queued         ``fireworks.LaunchPad``
:class:`CampaignLike`    a validated campaign                            ``sianode.workflows.spec.CampaignSpec``
=====================  ==============================================  ==========================

The store sits below the workflows (layer 5), so these protocols are importable by every layer
above it without importing the calculators, FireWorks or pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    from ase import Atoms

__all__ = ["CalculatorLike", "CampaignLike", "LaunchPadLike", "StoreLike"]


@runtime_checkable
class CalculatorLike(Protocol):
    """A calculator the store-backed steps can run and key (``CalculatorSpec``).

    ``identity()`` is what defines its numbers (hashed into content keys: name, model,
    weights SHA-256, parameters; never device or threads); ``provenance()`` is stored with
    every result; ``check_elements`` raises :class:`~sianode.errors.InputError` for an
    element the calculator cannot handle.
    """

    def identity(self) -> dict[str, Any]: ...

    def provenance(self) -> dict[str, Any]: ...

    def check_elements(self, atoms: Atoms) -> None: ...


@runtime_checkable
class StoreLike(Protocol):
    """The results store (:class:`~sianode.store.ResultStore`): one document per content key."""

    coll: Any

    def get(self, key: str) -> dict[str, Any] | None: ...

    def find(self, filter: Mapping[str, Any] | None = None, **kwargs: Any) -> list[dict[str, Any]]: ...

    def count(self, filter: Mapping[str, Any] | None = None) -> int: ...

    def insert(self, key: str, document: Mapping[str, Any]) -> dict[str, Any]: ...

    def get_or_compute(self, key: str, fn: Callable[[], Any], *, meta: Mapping[str, Any] | None = None,
                       **kwargs: Any) -> dict[str, Any]: ...

    def tag(self, key: str, campaign: str) -> None: ...

    def relabel(self, key: str, labels: Mapping[str, Any]) -> None: ...

    def get_array(self, file_id: Any) -> np.ndarray: ...


@runtime_checkable
class LaunchPadLike(Protocol):
    """The part of ``fireworks.LaunchPad`` sianode uses to queue and follow a campaign."""

    fireworks: Any
    workflows: Any
    launches: Any

    def add_wf(self, wf: Any, *args: Any, **kwargs: Any) -> Any: ...

    def get_wf_by_fw_id(self, fw_id: int) -> Any: ...


@runtime_checkable
class CampaignLike(Protocol):
    """A validated campaign (:class:`~sianode.workflows.spec.CampaignSpec`): its settings
    (``relax``, ``neb``, ``reference``: pydantic models with ``model_dump()``), its calculator
    and its hash."""

    name: str
    relax: Any
    neb: Any
    reference: Any
    threads: int

    def calculator_spec(self) -> CalculatorLike: ...

    def spec_hash(self) -> str: ...

    def as_dict(self) -> dict[str, Any]: ...
