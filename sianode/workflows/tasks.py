"""FireTasks of a campaign: each unpacks its parameters, calls one stage, returns an FWAction.

A stage's own calculation that fails (no convergence, NaN energy, atoms too close) is
recorded in the store as ``failed``; the Firework still COMPLETES, with the outcome in
``stored_data`` (``status``, ``reason``). Dependants then find the failed parent in the
store and complete as ``skipped`` without recording anything new. Only an unexpected
error (a bug, an unreachable database) raises and FIZZLES the Firework.

One way down: the lattice, host and insertion tasks pass the keys of their results to their
children (``FWAction(mod_spec=...)`` setting ``fw_spec["_sianode_keys"]``: ``lattice``,
``host``, ``insertions.<T class>``), and each child hands them to its stage
(:class:`~sianode.workflows.stages.ParentKeys`), which reads its inputs by those keys once
and runs its one step. A Firework without them (queued before the keys were passed) asks
for its parents through the store by content key, as before.

:class:`AnalysisTask` is kept only so that Fireworks queued by an earlier release still
deserialize and complete: it does nothing (the workflow does not call analysis; the command
that ran the campaign stores derived values).

The store a task writes to: ``_fw_env.sianode_db`` of the FWorker (a MongoDB URI or a
``my_launchpad.yaml`` path), else ``$SIANODE_DB_URI`` / ``$SIANODE_LAUNCHPAD``, else the
embedded server (:func:`sianode.store.open_store`).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from fireworks import FiretaskBase, FWAction, explicit_serialize

from sianode.workflows import stages

log = logging.getLogger(__name__)

#: Firework spec key holding the parents' result keys (:class:`~sianode.workflows.stages.ParentKeys`)
SPEC_KEYS = "_sianode_keys"

_STORES: dict[str, Any] = {}


def task_store(fw_spec: dict[str, Any]) -> Any:
    """The :class:`~sianode.store.ResultStore` of this worker (one per process and database)."""
    from sianode.store import open_store

    db = (fw_spec.get("_fw_env") or {}).get("sianode_db")
    cache_key = str(db)
    if cache_key not in _STORES:
        _STORES[cache_key] = open_store(db)
    return _STORES[cache_key]


def task_calculator(task: Any, fw_spec: dict[str, Any]) -> Any:
    """The task's calculator on this worker's device: ``_fw_env.sianode_device`` of the FWorker
    (``sianode init --gpus``: ``cuda``), else ``$SIANODE_DEVICE``, else the campaign's own."""
    device = (fw_spec.get("_fw_env") or {}).get("sianode_device") or os.environ.get("SIANODE_DEVICE") or None
    return stages.calculator_from(task["calculator"], device=device)


def parent_keys(fw_spec: dict[str, Any]) -> stages.ParentKeys:
    """The parents' result keys passed down to this Firework (empty for one queued without them)."""
    return stages.ParentKeys.from_dict(fw_spec.get(SPEC_KEYS))


def pass_keys(**keys: Any) -> list[dict[str, Any]]:
    """``mod_spec`` setting ``fw_spec[SPEC_KEYS][name] = key`` in every child (None values left out;
    ``insertions={"T1": key}`` sets ``SPEC_KEYS.insertions.T1``, so several parents add up)."""
    flat: dict[str, Any] = {}
    for name, value in keys.items():
        if isinstance(value, dict):
            flat.update({f"{SPEC_KEYS}->{name}->{k}": v for k, v in value.items() if v is not None})
        elif value is not None:
            flat[f"{SPEC_KEYS}->{name}"] = value
    return [{"_set": flat}] if flat else []


def action(outcome: stages.StageOutcome, mod_spec: list[dict[str, Any]] | None = None) -> FWAction:
    """The FWAction of a stage outcome (everything in ``stored_data``; ``mod_spec`` for the children)."""
    if outcome.status != stages.COMPLETED_:
        log.warning("%s: %s", outcome.status, outcome.reason)
    return FWAction(stored_data=outcome.as_dict(), mod_spec=mod_spec or [])


@explicit_serialize
class ReferenceTask(FiretaskBase):
    """bcc-Li reference (``mu_Li``) of one calculator."""

    required_params = ["calculator", "fmax", "campaign"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calc = task_calculator(self, fw_spec)
        return action(stages.reference_stage(task_store(fw_spec), calc, fmax=self["fmax"], campaign=self["campaign"]))


@explicit_serialize
class LatticeTask(FiretaskBase):
    """The calculator's own Si lattice constant (pure 8-atom cell, cell relaxed); passes its key."""

    required_params = ["calculator", "relax", "campaign"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calc = task_calculator(self, fw_spec)
        outcome, _ = stages.lattice_stage(task_store(fw_spec), calc, relax=self["relax"], campaign=self["campaign"])
        return action(outcome, pass_keys(lattice=outcome.key))


@explicit_serialize
class HostTask(FiretaskBase):
    """Relax one (doped) host at the calculator's lattice constant; passes its key."""

    required_params = ["calculator", "host", "labels", "relax"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calc = task_calculator(self, fw_spec)
        outcome = stages.host_stage(task_store(fw_spec), calc, host=self["host"], labels=self["labels"],
                                    relax=self["relax"], parents=parent_keys(fw_spec))
        return action(outcome, pass_keys(host=outcome.key))


@explicit_serialize
class InsertionTask(FiretaskBase):
    """Relax host + Li at one T-site class, in the relaxed host; passes its key to the hops."""

    required_params = ["calculator", "host", "labels", "site", "relax"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calc = task_calculator(self, fw_spec)
        outcome = stages.insertion_stage(task_store(fw_spec), calc, host=self["host"], labels=self["labels"],
                                         site=self["site"], relax=self["relax"], parents=parent_keys(fw_spec))
        return action(outcome, pass_keys(insertions={self["site"]["label"]: outcome.key}))


@explicit_serialize
class HopTask(FiretaskBase):
    """CI-NEB of one unordered hop path between the (shared) insertions of its end T classes."""

    required_params = ["calculator", "host", "labels", "hop", "relax", "neb"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calc = task_calculator(self, fw_spec)
        return action(stages.hop_stage(task_store(fw_spec), calc, host=self["host"], labels=self["labels"],
                                       hop=self["hop"], relax=self["relax"], neb=self["neb"],
                                       parents=parent_keys(fw_spec)))


@explicit_serialize
class HostWorkTask(FiretaskBase):
    """A host, its insertions and its hops in one Firework (``fireworks: host``; see
    :func:`~sianode.workflows.stages.host_work_stage`)."""

    required_params = ["calculator", "host", "labels", "sites", "hops", "relax", "neb"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        calc = task_calculator(self, fw_spec)
        return action(stages.host_work_stage(task_store(fw_spec), calc, host=self["host"], labels=self["labels"],
                                             sites=self["sites"], hops=self["hops"], relax=self["relax"],
                                             neb=self["neb"], parents=parent_keys(fw_spec)))


@explicit_serialize
class AnalysisTask(FiretaskBase):
    """Compatibility only: Fireworks of earlier releases end with this task. It does nothing
    (the workflow never calls analysis): derived values are computed by :mod:`sianode.analysis`
    when read, and stored by ``sianode.analysis.store_derived`` from the command that ran the
    campaign."""

    required_params = ["campaign"]

    def run_task(self, fw_spec: dict[str, Any]) -> FWAction:
        log.info("campaign %s: the analysis Firework of an earlier release does nothing now; derived values "
                 "are computed on read (sianode query) or stored by sianode.analysis.store_derived", self["campaign"])
        return FWAction(stored_data={"status": stages.SKIPPED, "key": None, "keys": {}, "computed": 0, "reused": 0,
                                     "calc_wall_s": 0.0,
                                     "reason": "skipped: the workflow no longer stores derived values"})
