"""Several structures evaluated together, for the calculators that allow it.

:func:`batch_evaluator` returns, for an ASE calculator, a function that computes energy, forces
and stress of a list of structures together, or None when the calculator has no such path (the
caller then evaluates one structure at a time, as before). For SevenNet there are two paths:

- ``batch``: one model call over all structures (:func:`sevennet_batch`); the choice on a GPU.
- ``parallel``: the structures split over ``threads`` Python threads, each running the model with
  one intra-op torch thread (:func:`sevennet_parallel`); the choice on CPU with 2 or more
  threads. Measured on 2 cores, five 65-atom images with 7net-0: one after the other with 2
  intra-op threads 4.8 s, one batched call 5.5-7.6 s (a 325-atom graph is slower per atom on
  CPU than five 65-atom ones), two images at a time 1.9 s (best of 6, machine shared).
  The results are bit-identical to one-at-a-time evaluation (same graph, same model).

SevenNet (:func:`sevennet_batch`): the structures' graphs are built exactly as
``sevenn.calculator.SevenNetCalculator.calculate`` builds one (``unlabeled_atoms_to_graph`` with
the model's cutoff), collated into one disjoint graph (torch_geometric ``Collater``, as
``sevenn.scripts.inference`` and ``sevenn.torchsim`` do) and passed once through a batch-mode copy
of the same model. Message passing never crosses between the structures, so each result equals
the single-structure one up to float32 summation order (measured: 1e-4 eV in the total energy of
65 atoms, 4e-7 eV/A in the forces).
"""

from __future__ import annotations

import copy
import logging
import sys
import threading
from typing import Any, Callable

import numpy as np

logger = logging.getLogger(__name__)

BatchFunction = Callable[[list[Any]], list[dict[str, Any]]]

_LOCK = threading.Lock()


#: how :func:`batch_evaluator` evaluates several structures.
MODES = ("auto", "batch", "parallel")


def batch_evaluator(inner: Any, threads: int = 1, mode: str = "auto") -> BatchFunction | None:
    """A function computing ``[{"energy", "free_energy", "forces", "stress"}, ...]`` for a list of
    ``Atoms`` together, or None when ``inner`` has no such path (or it would not be faster).

    Parameters
    ----------
    inner : ase Calculator
        The model's ASE calculator (SevenNet has both paths; any other: None).
    threads : int
        Threads given to this calculator (the ``parallel`` path runs that many structures at once).
    mode : str
        ``auto`` (``batch`` on a GPU, ``parallel`` on CPU with threads >= 2, else None),
        ``batch`` or ``parallel`` (forced; for tests and benchmarks).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    module = sys.modules.get("sevenn.calculator")  # not imported: inner cannot be a SevenNet calculator
    if module is None or not isinstance(inner, module.SevenNetCalculator) or not hasattr(inner, "model"):
        return None
    on_gpu = str(getattr(inner, "device", "cpu")).startswith("cuda")
    if mode == "batch" or (mode == "auto" and on_gpu):
        return lambda images: sevennet_batch(inner, images)
    if mode == "parallel" or threads > 1:
        return lambda images: sevennet_parallel(inner, images, max(int(threads), 1))
    return None


def _sevennet_single(calc: Any, atoms: Any) -> dict[str, Any]:
    """What ``SevenNetCalculator.calculate`` computes, without touching the calculator's state."""
    import sevenn._keys as KEY
    from sevenn.atom_graph_data import AtomGraphData
    from sevenn.train.dataload import unlabeled_atoms_to_graph

    data = AtomGraphData.from_numpy_dict(unlabeled_atoms_to_graph(atoms, calc.cutoff, with_shift=False))
    if calc.modal:
        data[KEY.DATA_MODALITY] = calc.modal
    data.to(calc.device)
    results = calc.output_to_results(calc.model(data))
    return {key: results[key] for key in ("energy", "free_energy", "forces", "stress")}


def sevennet_parallel(calc: Any, images: list[Any], threads: int) -> list[dict[str, Any]]:
    """Energy, forces and stress of each structure, ``threads`` structures at a time.

    torch's intra-op thread count is set to 1 for the duration (each structure runs on one
    core) and restored afterwards.
    """
    import torch

    if threads < 2 or len(images) < 2:
        return [_sevennet_single(calc, atoms) for atoms in images]
    from concurrent.futures import ThreadPoolExecutor

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max_workers=min(threads, len(images))) as pool:
            return list(pool.map(lambda atoms: _sevennet_single(calc, atoms), images))
    finally:
        torch.set_num_threads(before)


def _batch_model(calc: Any) -> Any:
    """A batch-mode copy of the calculator's model (made once, kept on the calculator)."""
    with _LOCK:
        model = getattr(calc, "_sianode_batch_model", None)
        if model is None:
            model = copy.deepcopy(calc.model)
            model.set_is_batch_data(True)
            model.eval()
            calc._sianode_batch_model = model
    return model


def sevennet_batch(calc: Any, images: list[Any]) -> list[dict[str, Any]]:
    """Energy (eV), forces (eV/A, (n, 3)) and Voigt stress (eV/A^3) of each structure, one model call.

    Parameters
    ----------
    calc : sevenn.calculator.SevenNetCalculator
        A loaded SevenNet calculator (its model, cutoff, modal and device are used).
    images : list of ase.Atoms
        Structures with 3D cells (any sizes and elements the model knows).
    """
    import sevenn._keys as KEY
    from sevenn.atom_graph_data import AtomGraphData
    from sevenn.train.dataload import unlabeled_atoms_to_graph
    from torch_geometric.loader.dataloader import Collater

    model = _batch_model(calc)
    graphs = []
    for atoms in images:
        graph = AtomGraphData.from_numpy_dict(unlabeled_atoms_to_graph(atoms, calc.cutoff, with_shift=False))
        if calc.modal:
            graph[KEY.DATA_MODALITY] = calc.modal
        graphs.append(graph)
    batch = Collater([], follow_batch=None, exclude_keys=None)(graphs)
    batch.to(calc.device)
    output = model(batch)
    energies = output[KEY.PRED_TOTAL_ENERGY].detach().cpu().numpy().reshape(-1)
    forces = output[KEY.PRED_FORCE].detach().cpu().numpy()
    # sevenn's stress is (xx, yy, zz, xy, yz, zx) of the negative; ASE's Voigt order is xx yy zz yz xz xy
    stress = -output[KEY.PRED_STRESS].detach().cpu().numpy().reshape(len(images), 6)[:, [0, 1, 2, 4, 5, 3]]
    results = []
    start = 0
    for n, atoms in enumerate(images):
        stop = start + len(atoms)
        energy = float(energies[n])
        results.append({"energy": energy, "free_energy": energy, "forces": np.array(forces[start:stop], dtype=float),
                        "stress": np.array(stress[n], dtype=float)})
        start = stop
    if start != len(forces):
        raise RuntimeError(f"batched SevenNet returned forces for {len(forces)} atoms, expected {start}")
    return results
