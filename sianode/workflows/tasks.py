"""FireTasks of a campaign: each unpacks its parameters, calls one stage, returns an FWAction.

A stage's own calculation that fails (no convergence, NaN energy, atoms too close) is
recorded in the store as ``failed``; the Firework still COMPLETES, with the outcome in
``stored_data`` (``status``, ``reason``). Dependants then find the failed parent in the
store and complete as ``skipped`` without recording anything new. Only an unexpected
error (a bug, an unreachable database) raises and FIZZLES the Firework.

The store a task writes to: ``_fw_env.sianode_db`` of the FWorker (a MongoDB URI or a
``my_launchpad.yaml`` path), else ``$SIANODE_DB_URI`` / ``$SIANODE_LAUNCHPAD``, else the
embedded server (:func:`sianode.store.open_store`).
"""

from __future__ import annotations

import logging
from typing import Any

from fireworks import FiretaskBase, FWAction, explicit_serialize

from sianode.workflows import stages

log = logging.getLogger(__name__)

_STORES: dict[str, Any] = {}


def task_store(fw_spec: dict[str, Any]) -> Any:
    """The :class:`~sianode.store.ResultStore` of this worker (one per process and database)."""
    from sianode.store import open_store

    db = (fw_spec.get("_fw_env") or {}).get("sianode_db")
    cache_key = str(db)
    if cache_key not in _STORES:
        _STORES[cache_key] = open_store(db)
    return _STORES[cache_key]


def action(outcome: stages.StageOutcome) -> FWAction:
    """The FWAction of a stage outcome (everything in ``stored_data``)."""
    if outcome.status != stages.COMPLETED_:
        log.warning("%s: %s", outcome.status, outcome.reason)
    return FWAction(stored_data=outcome.as_dict())


@explicit_serialize
class ReferenceTask(FiretaskBase):
    """bcc-Li reference (``mu_Li``) of one calculator."""

    required_params = ["calculator", "fmax", "campaign"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calc = stages.calculator_from(self["calculator"])
        return action(stages.reference_stage(task_store(fw_spec), calc, fmax=self["fmax"], campaign=self["campaign"]))


@explicit_serialize
class LatticeTask(FiretaskBase):
    """The calculator's own Si lattice constant (pure 8-atom cell, cell relaxed)."""

    required_params = ["calculator", "relax", "campaign"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calc = stages.calculator_from(self["calculator"])
        outcome, _ = stages.lattice_stage(task_store(fw_spec), calc, relax=self["relax"], campaign=self["campaign"])
        return action(outcome)


@explicit_serialize
class HostTask(FiretaskBase):
    """Relax one (doped) host at the calculator's lattice constant, fixed cell."""

    required_params = ["calculator", "host", "labels", "relax"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calc = stages.calculator_from(self["calculator"])
        return action(stages.host_stage(task_store(fw_spec), calc, host=self["host"], labels=self["labels"],
                                        relax=self["relax"]))


@explicit_serialize
class InsertionTask(FiretaskBase):
    """Relax host + Li at one T-site class, in the relaxed host."""

    required_params = ["calculator", "host", "labels", "site", "relax"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calc = stages.calculator_from(self["calculator"])
        return action(stages.insertion_stage(task_store(fw_spec), calc, host=self["host"], labels=self["labels"],
                                             site=self["site"], relax=self["relax"]))


@explicit_serialize
class HopTask(FiretaskBase):
    """CI-NEB of one unordered hop path between the (shared) insertions of its end T classes."""

    required_params = ["calculator", "host", "labels", "hop", "relax", "neb"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calc = stages.calculator_from(self["calculator"])
        return action(stages.hop_stage(task_store(fw_spec), calc, host=self["host"], labels=self["labels"],
                                       hop=self["hop"], relax=self["relax"], neb=self["neb"]))


@explicit_serialize
class AnalysisTask(FiretaskBase):
    """Store the campaign's derived insertion energies and barriers."""

    required_params = ["campaign"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        return action(stages.analysis_stage(task_store(fw_spec), campaign=self["campaign"]))
