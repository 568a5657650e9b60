"""The periodic Li hop network of one stored host, and the diffusivity it gives.

A Li atom in a doped crystal crosses mostly dopant-free hops, and sites next to a dopant
may trap or repel it; one barrier does not make a diffusivity (PHYSICS.md section 6). This
module assembles, for one host in the store (dopant, atom %, arrangement, calculator), the
whole periodic network of its cell from the documents of contract C:

* every T site of the host cell is mapped to its symmetry class
  (:func:`sianode.structures.network_topology` on the ideal host rebuilt as
  :func:`sianode.workflows.plan.build_host` builds it); its energy is the class's insertion
  energy E_ins = E(host + Li) - E(host) - mu_Li (eV vs bcc Li; Long et al., J. Phys. Chem. C
  115 (2011) 18916; :func:`sianode.analysis.derive.insertion_energy});
* every H site (the saddle of exactly one unordered T-T pair) is mapped to its class; its
  saddle energy is E_ins(start class) + forward barrier of the class's climbing-image NEB
  (Henkelman, Uberuaga, Jonsson, J. Chem. Phys. 113 (2000) 9901), checked against
  E_ins(end class) + reverse barrier;
* positions are the ideal fractional coordinates in the RELAXED host's cell.

Classes without a completed calculation are reported in ``missing``; no number is guessed.
:func:`transport_summary` turns the network into D_eff(T) (exact cell-problem solution,
:func:`sianode.transport.diffusivity`), the ratio to pure Si of the same calculator and the
effective activation energy (Arrhenius fit over 250-400 K). :func:`dopant_kernel` gives the
dilute-superposition kernel of one dopant (issue 12).
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from sianode.analysis import derive
from sianode.analysis.docs import (
    calculator_name,
    choose_host_calculator,
    dopant_label,
    final_structure,
    host_candidates,
    identity_token,
    labels,
    rank_hosts,
    short,
    supercell_n,
)
from sianode.analysis.hops import Barrier, barrier
from sianode.constants import DEFAULT_ATTEMPT_FREQUENCY_HZ
from sianode.errors import InputError
from sianode.store import COMPLETED, schema

if TYPE_CHECKING:
    from ase import Atoms

    from sianode.store.protocols import StoreLike

logger = logging.getLogger(__name__)

__all__ = [
    "ARRHENIUS_RANGE_K", "NetworkAssembly", "SADDLE_TOLERANCE_EV", "dopant_kernel", "host_network",
    "transport_summary",
]

#: two estimates of one saddle energy (from the start and from the end of its NEB) further
#: apart than this, eV, are reported in ``warnings``.
SADDLE_TOLERANCE_EV = 0.05
#: temperature range of the effective activation energy, K (around room temperature, where
#: Pell's 0.66 eV was measured at its low end).
ARRHENIUS_RANGE_K = (250.0, 400.0)


@dataclass
class NetworkAssembly:
    """The hop network of one stored host, or what is missing to build it.

    Attributes
    ----------
    network : sianode.transport.HopNetwork or None
        T sites (energies E_ins, eV vs bcc Li) and unordered hops (saddle energies, eV) of the
        relaxed host cell; None when a class is missing.
    missing : list of str
        One line per missing input, the class label first (``"H3: no NEB"``,
        ``"T2: insertion 1a2b3c4d5e6f is failed: ..."``); empty when complete.
    sources : list of str
        Keys of the documents used: host, bcc-Li reference, insertions, NEBs.
    host_key : str or None
        Key of the host ``relax`` document.
    dopant_frac : ndarray, shape (n_dopants, 3)
        Fractional coordinates of the dopant atoms in the host cell (ideal positions; empty
        for pure Si). ``dopant_frac[0]`` is what :func:`sianode.transport.kernel_from_network`
        takes for a one-dopant cell.
    calculator : str or None
        Calculator name of every document used.
    dopant, percent, supercell
        Labels of the host (``"Si"``, 0.0 for pure Si; supercell ``[n, n, n]``).
    n_site_classes, n_hop_classes : int
        Number of T-site classes and of H-site (unordered hop) classes of the cell.
    site_energies_eV : dict
        T class label -> E_ins, eV (the classes that could be computed).
    saddle_energies_eV : dict
        H class label -> saddle energy, eV vs bcc Li (the classes that could be computed).
    attempt_frequency_Hz : float
        Attempt frequency of every hop, Hz.
    lattice_constant_A : float or None
        Effective cubic lattice constant of the relaxed host, Angstrom
        (:func:`sianode.analysis.derive.lattice_constant_A`).
    warnings : list of str
        Inconsistencies found (saddle from the start vs from the end of an NEB, several
        NEBs of one class, ...); the numbers are still given.
    """

    network: Any
    missing: list[str]
    sources: list[str]
    host_key: str | None
    dopant_frac: np.ndarray
    calculator: str | None
    dopant: str = schema.PURE
    percent: float = 0.0
    supercell: list[int] | None = None
    n_site_classes: int = 0
    n_hop_classes: int = 0
    site_energies_eV: dict[str, float] = field(default_factory=dict)
    saddle_energies_eV: dict[str, float] = field(default_factory=dict)
    attempt_frequency_Hz: float = 1e13
    lattice_constant_A: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every T and H class has its number (``network`` is not None)."""
        return self.network is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe summary (the network itself as its file format, or None)."""
        return {
            "network": None if self.network is None else self.network.to_json_dict(),
            "missing": list(self.missing), "sources": list(self.sources), "host_key": self.host_key,
            "dopant_frac": np.asarray(self.dopant_frac, dtype=float).tolist(), "calculator": self.calculator,
            "dopant": self.dopant, "percent": self.percent, "supercell": self.supercell,
            "n_site_classes": self.n_site_classes, "n_hop_classes": self.n_hop_classes,
            "site_energies_eV": dict(self.site_energies_eV), "saddle_energies_eV": dict(self.saddle_energies_eV),
            "attempt_frequency_Hz": self.attempt_frequency_Hz, "lattice_constant_A": self.lattice_constant_A,
            "warnings": list(self.warnings),
        }


# ------------------------------------------------------------ structures
def _relaxed_atoms(store: StoreLike, doc: Mapping[str, Any]) -> Atoms:
    """The relaxed structure (``output.structure``) of a completed relax document."""
    from sianode.structures.serialize import atoms_from_dict

    structure = final_structure(doc)
    if structure is None:
        raise InputError(f"relax document {short(doc.get('key'))} has no output.structure; run `sianode db migrate` "
                         "on a database written by sianode 0.1")
    return atoms_from_dict(structure)


def _topology(relaxed: Any, dopant: str, n: int | None) -> tuple[Any, list[int], np.ndarray]:
    """Topology of the ideal host (a = 5.431 A, as the campaign plan built it) and the dopant indices.

    Raises
    ------
    InputError
        The relaxed host is not a substitutionally doped n x n x n diamond supercell.
    """
    symbols = relaxed.get_chemical_symbols()
    dopant_indices = [i for i, s in enumerate(symbols) if s != "Si"]
    n = n if n is not None else round((len(symbols) / 8.0) ** (1.0 / 3.0))
    if len(symbols) != 8 * n**3:
        raise InputError(f"host has {len(symbols)} atoms, not the 8 x {n}^3 of its {n}x{n}x{n} supercell label: "
                         "only substitutionally doped diamond supercells have a hop network here")
    species = tuple(symbols[i] for i in dopant_indices)
    topo, ideal_symbols, frac = _ideal_topology(int(n), species, tuple(dopant_indices))
    if list(ideal_symbols) != symbols:
        raise InputError("host structure does not match the ideal doped supercell rebuilt from its dopant indices "
                         f"(dopants {sorted(set(symbols) - {'Si'})} at {dopant_indices})")
    return topo, dopant_indices, frac.copy()


@functools.lru_cache(maxsize=64)
def _ideal_topology(n: int, species: tuple[str, ...], dopant_indices: tuple[int, ...]) -> tuple[Any, tuple[str, ...],
                                                                                                np.ndarray]:
    """(topology, symbols, dopant fractional coordinates) of the ideal host; cached (read-only)."""
    from sianode.structures import network_topology
    from sianode.structures.supercell import A_SI
    from sianode.workflows.plan import build_host

    if dopant_indices:
        ideal = build_host({"dopant": species[0], "supercell": n, "dopant_indices": list(dopant_indices)}, A_SI)
        symbols = ideal.get_chemical_symbols()
        for i, el in zip(dopant_indices, species):  # mixed dopants: each at its own index
            symbols[i] = el
        ideal.set_chemical_symbols(symbols)
    else:
        ideal = build_host({"dopant": schema.PURE, "supercell": n, "dopant_indices": []}, A_SI)
    topo = network_topology(ideal, list(dopant_indices) or None)
    frac = ideal.get_scaled_positions(wrap=True)[list(dopant_indices)] if dopant_indices else np.zeros((0, 3))
    return topo, tuple(ideal.get_chemical_symbols()), np.asarray(frac, dtype=float).reshape(-1, 3)


# ------------------------------------------------------------ energies
def _site_energies(
    store: StoreLike, host: Mapping[str, Any], reference: Mapping[str, Any] | None, t_classes: Sequence[str],
) -> tuple[dict[str, float], list[str], list[str], list[str]]:
    """E_ins of every T class (lowest completed value of a class), missing lines, sources, warnings."""
    docs = store.find({"kind": schema.RELAX, "labels.role": schema.ROLE_INSERTION, "labels.host_key": host["key"]})
    docs = [d for d in docs if labels(d).get("site_kind") in (None, "T")]
    energies: dict[str, float] = {}
    missing: list[str] = []
    sources: list[str] = []
    warnings: list[str] = []
    for label in t_classes:
        rows = [derive.insertion_energy(d, host, reference) for d in sorted(docs, key=lambda d: str(d["key"]))
                if labels(d).get("site") == label]
        done = [r for r in rows if r.e_ins_eV is not None]
        if not done:
            missing.append(f"{label}: " + (rows[0].reason if rows else "no insertion"))  # type: ignore[operator]
            continue
        best = min(done, key=lambda r: (r.e_ins_eV, r.key))
        spread = max(r.e_ins_eV for r in done) - best.e_ins_eV  # type: ignore[operator]
        if spread > SADDLE_TOLERANCE_EV:
            warnings.append(f"{label}: {len(done)} insertions differ by {spread:.3f} eV; the lowest "
                            f"({short(best.key)}) is used")
        energies[label] = float(best.e_ins_eV)  # type: ignore[arg-type]
        sources.append(best.key)
    return energies, missing, sources, warnings


def _saddle(b: Barrier, lab: Mapping[str, Any], e_t: Mapping[str, float]) -> tuple[float | None, str | None]:
    """Saddle energy of one NEB, eV vs bcc Li, and a warning when its two ends disagree.

    E_ins(start) + forward barrier; checked against E_ins(end) + reverse barrier (the same
    saddle seen from the other end, PHYSICS.md section 6). From the end alone when the start
    class has no energy (the network is then incomplete anyway); None when neither has one.
    """
    start, end = lab.get("start_site"), lab.get("end_site")
    s_start = e_t[start] + b.barrier_eV if start in e_t and b.barrier_eV is not None else None
    s_end = e_t[end] + b.reverse_barrier_eV if end in e_t and b.reverse_barrier_eV is not None else None
    if s_start is None:
        return s_end, None
    note = None
    if s_end is not None and abs(s_start - s_end) > SADDLE_TOLERANCE_EV:
        note = (f"{lab.get('h_site')}: saddle from the start ({start}: {s_start:.3f} eV) and from the end ({end}: "
                f"{s_end:.3f} eV) of NEB {short(b.key)} differ by {abs(s_start - s_end):.3f} eV; the start's is used")
    return s_start, note


def _saddle_energies(
    store: StoreLike, host: Mapping[str, Any], h_classes: Sequence[str], h_ends: Mapping[str, set[str]],
    e_t: Mapping[str, float],
) -> tuple[dict[str, float], list[str], list[str], list[str], list[dict[str, Any]]]:
    """Saddle energy of every H class (lowest of its completed NEBs), missing lines, sources, warnings."""
    docs = store.find({"kind": schema.NEB, "labels.role": schema.ROLE_HOP, "labels.host_key": host["key"]})
    token = identity_token(host)
    saddles: dict[str, float] = {}
    missing: list[str] = []
    sources: list[str] = []
    warnings: list[str] = []
    used: list[dict[str, Any]] = []
    legacy = [d for d in docs if not labels(d).get("h_site")]
    if legacy:
        warnings.append(f"{len(legacy)} NEB(s) of this host have no h_site label (ordered hops of an older "
                        "campaign) and are not used")
    for label in h_classes:
        mine = sorted((d for d in docs if labels(d).get("h_site") == label), key=lambda d: str(d["key"]))
        other = [d for d in mine if identity_token(d) != token]
        mine = [d for d in mine if identity_token(d) == token]
        if other:
            warnings.append(f"{label}: {len(other)} NEB(s) of another calculator identity ignored")
        found: list[tuple[float, dict[str, Any], Barrier]] = []
        reasons: list[str] = []
        ends_missing = False
        for d in mine:
            lab = labels(d)
            ends = {lab.get("start_site"), lab.get("end_site")}
            if ends != h_ends.get(label, ends):
                warnings.append(f"{label}: NEB {short(d['key'])} joins {sorted(map(str, ends))}, but the class "
                                f"joins {sorted(h_ends[label])}; not used")
                continue
            b = barrier(d)
            if b.barrier_eV is None:
                reasons.append(str(b.reason))
                continue
            s, note = _saddle(b, lab, e_t)
            if s is None:  # neither end class has an energy: those T classes are reported
                ends_missing = True
                continue
            if note:
                warnings.append(note)
            found.append((s, d, b))
        if not found:
            if not ends_missing:
                missing.append(f"{label}: " + (reasons[0] if reasons else "no NEB"))
            continue
        s, d, _ = min(found, key=lambda f: (f[0], str(f[1]["key"])))
        if max(f[0] for f in found) - s > SADDLE_TOLERANCE_EV:
            warnings.append(f"{label}: {len(found)} NEBs give saddles {', '.join(f'{f[0]:.3f}' for f in found)} eV; "
                            f"the lowest ({short(d['key'])}) is used")
        saddles[label] = float(s)
        sources.append(str(d["key"]))
        used.append(d)
    return saddles, missing, sources, warnings, used


def _attempt_frequency(neb_docs: Sequence[Mapping[str, Any]], warnings: list[str]) -> float:
    """1e13 Hz (PHYSICS.md section 4), or the geometric mean of the NEBs' own estimates when all have one."""
    values = [(d.get("output") or {}).get("attempt_frequency_Hz") for d in neb_docs]
    if not neb_docs or any(v is None for v in values):
        return float(DEFAULT_ATTEMPT_FREQUENCY_HZ)
    nu = [float(v) for v in values]  # type: ignore[arg-type]
    mean = float(math.exp(sum(math.log(v) for v in nu) / len(nu)))
    if max(nu) > 1.01 * min(nu):
        warnings.append(f"one attempt frequency for every hop: {mean:.3g} Hz, the geometric mean of the NEBs' "
                        f"estimates ({min(nu):.3g}-{max(nu):.3g} Hz)")
    return mean


# ------------------------------------------------------------ assembly
def host_network(
    store: StoreLike,
    *,
    dopant: str | None,
    percent: float | None,
    calculator: str | None = None,
    arrangement: Any = None,
    campaign: str | None = None,
    supercell: int | None = None,
    host_key: str | None = None,
) -> NetworkAssembly:
    """Assemble the periodic hop network of one stored host (contract D).

    Parameters
    ----------
    store : ResultStore
    dopant : str or None
        ``"B"``, ``"P"``, ``"S"``, ``"Ge"``; ``"Si"``, ``"pure"`` or None for pure Si.
    percent : float or None
        Dopant atom % (within 1e-3); None: the only one stored (0 for pure Si).
    calculator : str, optional
        Calculator name; default: the only one with such a host, else the default
        calculator, else the first by name.
    arrangement : optional
        ``labels.arrangement`` of the host; default: the host most calculations refer to.
    campaign : str, optional
        Only hosts used by this campaign.
    supercell : int, optional
        Only hosts in the n x n x n supercell.
    host_key : str, optional
        Exactly this host document (it must match the other filters).

    Returns
    -------
    NetworkAssembly
        ``network`` None with ``missing`` lines when a class (or the host, or the bcc-Li
        reference) has no completed calculation.

    Raises
    ------
    InputError
        No such host in the store (the message names what the store has).
    """
    name = dopant_label(dopant)
    if name == schema.PURE and percent is None:
        percent = 0.0
    hosts, calc = host_candidates(store, name, percent, calculator, arrangement, campaign, supercell)
    if host_key is not None:
        hosts = [d for d in hosts if d["key"] == host_key]
        if not hosts:
            raise InputError(f"host {short(host_key)} is not a {name} host matching percent={percent}, "
                             f"calculator={calc!r}, arrangement={arrangement!r}, campaign={campaign!r}")
    host = rank_hosts(store, hosts)[0]
    lab = labels(host)
    assembly = NetworkAssembly(
        network=None, missing=[], sources=[host["key"]], host_key=host["key"], dopant_frac=np.zeros((0, 3)),
        calculator=calc, dopant=str(lab.get("dopant")), percent=float(lab.get("percent") or 0.0),
        supercell=[supercell_n(lab.get("supercell"))] * 3 if lab.get("supercell") is not None else None,
    )
    if host.get("status") != COMPLETED:
        assembly.missing.append(f"host: relax {short(host['key'])} is {host.get('status')}"
                                + (f": {host.get('reason')}" if host.get("reason") else ""))
        return assembly
    relaxed = _relaxed_atoms(store, host)
    topo, _, dopant_frac = _topology(relaxed, assembly.dopant, supercell_n(lab.get("supercell")))
    assembly.dopant_frac = dopant_frac
    assembly.lattice_constant_A = derive.lattice_constant_A(host)
    t_classes = list(dict.fromkeys(topo.t_labels))
    h_classes = list(dict.fromkeys(topo.h_labels))
    assembly.n_site_classes, assembly.n_hop_classes = len(t_classes), len(h_classes)
    reference = derive.li_references(store).get(identity_token(host))
    if reference is None or reference.get("status") != COMPLETED:
        assembly.missing.append(f"mu_Li: no completed bcc-Li reference for calculator {calc!r}")
        return assembly
    assembly.sources.append(reference["key"])
    pairs = np.asarray(topo.pairs, dtype=int).reshape(-1, 2)
    h_ends: dict[str, set[str]] = {}
    for h, label in enumerate(topo.h_labels):
        h_ends.setdefault(label, {topo.t_labels[pairs[h, 0]], topo.t_labels[pairs[h, 1]]})
    e_t, miss_t, src_t, warn_t = _site_energies(store, host, reference, t_classes)
    e_s, miss_h, src_h, warn_h, used = _saddle_energies(store, host, h_classes, h_ends, e_t)
    assembly.site_energies_eV, assembly.saddle_energies_eV = e_t, e_s
    assembly.missing += miss_t + miss_h
    assembly.sources += src_t + src_h
    assembly.warnings += warn_t + warn_h
    assembly.attempt_frequency_Hz = _attempt_frequency(used, assembly.warnings)
    if assembly.missing:
        logger.info("hop network of host %s incomplete: %s", short(host["key"]), "; ".join(assembly.missing))
        return assembly
    assembly.network = _build_network(relaxed, topo, e_t, e_s, assembly)
    return assembly


def _build_network(relaxed: Any, topo: Any, e_t: Mapping[str, float], e_s: Mapping[str, float],
                   assembly: NetworkAssembly) -> Any:
    from sianode.transport import HopNetwork

    pairs = np.asarray(topo.pairs, dtype=int).reshape(-1, 2)
    energies = np.array([e_t[lab] for lab in topo.t_labels], dtype=float)
    saddle = np.array([e_s[lab] for lab in topo.h_labels], dtype=float)
    low = np.maximum(energies[pairs[:, 0]], energies[pairs[:, 1]])
    below = sorted({topo.h_labels[h] for h in np.flatnonzero(saddle < low)})
    if below:  # only from inconsistent NEB ends; never silently
        assembly.warnings.append(f"saddle of {', '.join(below)} lies below an end's E_ins; raised to that end")
        saddle = np.maximum(saddle, low)
    net = HopNetwork(
        cell_A=np.asarray(relaxed.cell[:], dtype=float), frac=np.asarray(topo.t_frac, dtype=float),
        energies_eV=energies, i=pairs[:, 0].copy(), j=pairs[:, 1].copy(),
        image=np.asarray(topo.images, dtype=int).reshape(-1, 3), saddle_eV=saddle,
        attempt_frequency_Hz=assembly.attempt_frequency_Hz, site_labels=list(topo.t_labels),
        hop_labels=list(topo.h_labels),
    )
    net.validate()
    return net


# ------------------------------------------------------------ summaries
def _pure_assembly(store: StoreLike, doped: NetworkAssembly) -> tuple[NetworkAssembly | None, str | None]:
    """Pure host of the same calculator (same supercell when there is one)."""
    if doped.dopant == schema.PURE:
        return doped, None
    n = doped.supercell[0] if doped.supercell else None
    try:
        return host_network(store, dopant=schema.PURE, percent=0.0, calculator=doped.calculator, supercell=n), None
    except InputError:
        pass
    try:
        return host_network(store, dopant=schema.PURE, percent=0.0, calculator=doped.calculator), None
    except InputError as exc:
        return None, f"pure Si: {exc}"


def transport_summary(
    store: StoreLike,
    *,
    dopant: str | None,
    percent: float | None,
    calculator: str | None = None,
    temperature_K: float = 300.0,
    arrangement: Any = None,
    campaign: str | None = None,
    host_key: str | None = None,
) -> dict[str, Any]:
    """D_eff of a stored host, its ratio to pure Si of the same calculator, and E_a,eff (contract D).

    D_eff: exact effective diffusivity of the periodic hop network (cell problem, PHYSICS.md
    section 6; :func:`sianode.transport.diffusivity`); D_pure: the same for the pure host
    of the same calculator (same supercell when stored); E_a,eff: slope of ln D_eff vs 1/kT
    over :data:`ARRHENIUS_RANGE_K` (:func:`sianode.transport.arrhenius_fit`). The host is
    chosen as :func:`host_network` chooses it (``arrangement``, ``campaign``, ``host_key``).

    Returns
    -------
    dict
        ``D_eff_m2_s, D_pure_m2_s, ratio_to_pure, Ea_eff_eV, Ea_pure_eV, n_hop_classes,
        n_site_classes, missing, sources, warnings, dopant, percent, calculator,
        temperature_K, host_key, pure_host_key, attempt_frequency_Hz``. Values that need a
        missing class are None and ``missing`` says which (``"pure Si ..."`` lines for the
        pure host).

    Raises
    ------
    InputError
        No such host in the store, or a temperature that is not positive.
    """
    from sianode.transport import arrhenius_fit, diffusivity

    if not (isinstance(temperature_K, (int, float)) and math.isfinite(temperature_K) and temperature_K > 0):
        raise InputError(f"temperature {temperature_K!r} K is not allowed; it must be a positive number of K")
    doped = host_network(store, dopant=dopant, percent=percent, calculator=calculator, arrangement=arrangement,
                         campaign=campaign, host_key=host_key)
    pure, pure_error = _pure_assembly(store, doped)
    missing = list(doped.missing)
    sources = list(doped.sources)
    warnings = list(doped.warnings)
    if pure_error:
        missing.append(pure_error)
    elif pure is not doped and pure is not None:
        missing += [f"pure Si {m}" for m in pure.missing]
        sources += [k for k in pure.sources if k not in sources]
        warnings += [f"pure Si {w}" for w in pure.warnings]
    d_eff = diffusivity(doped.network, float(temperature_K)) if doped.network is not None else None
    d_pure = (diffusivity(pure.network, float(temperature_K))
              if pure is not None and pure.network is not None else None)
    ea = arrhenius_fit(doped.network, t_range_K=ARRHENIUS_RANGE_K).Ea_eV if doped.network is not None else None
    ea_pure = (arrhenius_fit(pure.network, t_range_K=ARRHENIUS_RANGE_K).Ea_eV
               if pure is not None and pure.network is not None else None)
    return {
        "D_eff_m2_s": d_eff, "D_pure_m2_s": d_pure,
        "ratio_to_pure": d_eff / d_pure if d_eff is not None and d_pure else None,
        "Ea_eff_eV": ea, "Ea_pure_eV": ea_pure,
        "n_hop_classes": doped.n_hop_classes, "n_site_classes": doped.n_site_classes,
        "missing": missing, "sources": sources, "warnings": warnings,
        "dopant": doped.dopant, "percent": doped.percent, "calculator": doped.calculator,
        "temperature_K": float(temperature_K), "host_key": doped.host_key,
        "pure_host_key": pure.host_key if pure is not None else None,
        "attempt_frequency_Hz": doped.attempt_frequency_Hz,
        "arrhenius_range_K": list(ARRHENIUS_RANGE_K),
    }


def dopant_kernel(store: StoreLike, dopant: str, calculator: str | None = None) -> Any:
    """Dilute-superposition kernel of one dopant from its one-dopant host and the pure host.

    The shifts of every T-site energy and every saddle energy caused by one substitutional
    dopant (PHYSICS.md section 7, dilute superposition), relative to the pure host of the
    same calculator: :func:`sianode.transport.kernel_from_network` of the one-dopant host's
    network (the largest supercell with a complete network; the dopant at ``dopant_frac[0]``)
    with the pure site and saddle energies, at the pure relaxed host's lattice constant.

    Returns
    -------
    sianode.transport.DopantKernel
        ``source`` names the doped and pure hosts, the calculator and every document key.

    Raises
    ------
    InputError
        No one-dopant host of ``dopant``, or its (or pure Si's) network is incomplete (the
        message lists the missing classes).
    """
    from sianode.transport import kernel_from_network

    name = dopant_label(dopant)
    if name == schema.PURE:
        raise InputError("a dopant kernel needs a dopant (B, P, S, Ge, ...), not pure Si")
    hosts = [d for d in store.find({"kind": schema.RELAX, "labels.role": schema.ROLE_HOST})
             if str(labels(d).get("dopant")).lower() == name.lower() and int(labels(d).get("n_dopants") or 0) == 1]
    if not hosts:
        have = sorted({str(labels(d).get("dopant")) for d in store.find(
            {"kind": schema.RELAX, "labels.role": schema.ROLE_HOST, "labels.n_dopants": 1})})
        raise InputError(f"no one-dopant host of {name!r} in the database; one-dopant hosts: "
                         f"{', '.join(have) or 'none'}")
    calc = choose_host_calculator(sorted({str(calculator_name(d)) for d in hosts}), calculator, f"one-dopant {name}")
    sizes = sorted({supercell_n(labels(d).get("supercell")) or 0 for d in hosts if str(calculator_name(d)) == calc},
                   reverse=True)
    tried: list[NetworkAssembly] = []
    for n in sizes:
        percent = 100.0 / (8 * n**3) if n else None
        doped = host_network(store, dopant=name, percent=percent, calculator=calc, supercell=n or None)
        tried.append(doped)
        if doped.complete:
            break
    doped = tried[-1]
    if not doped.complete:
        raise InputError(f"no dopant kernel for {name} ({calc}): the one-dopant host's hop network is incomplete; "
                         f"missing {'; '.join(doped.missing)}")
    pure, error = _pure_assembly(store, doped)
    if pure is None or not pure.complete:
        why = error or "; ".join(pure.missing)  # type: ignore[union-attr]
        raise InputError(f"no dopant kernel for {name} ({calc}): the pure-Si hop network is incomplete; missing {why}")
    if len(pure.site_energies_eV) != 1 or len(pure.saddle_energies_eV) != 1:
        raise InputError(f"pure Si host {short(pure.host_key)} has {len(pure.site_energies_eV)} T and "
                         f"{len(pure.saddle_energies_eV)} H classes; a perfect diamond cell has one of each")
    a = pure.lattice_constant_A
    if a is None:
        raise InputError(f"pure Si host {short(pure.host_key)} has no relaxed structure to take a lattice "
                         "constant from")
    kernel = kernel_from_network(doped.network, doped.dopant_frac[0],
                                 site_energy_pure_eV=next(iter(pure.site_energies_eV.values())),
                                 saddle_energy_pure_eV=next(iter(pure.saddle_energies_eV.values())), a_A=float(a))
    source = {"dopant": doped.dopant, "percent": doped.percent, "calculator": calc, "doped_host_key": doped.host_key,
              "pure_host_key": pure.host_key, "sources": doped.sources + [k for k in pure.sources
                                                                         if k not in doped.sources]}
    try:
        kernel.source.update(source)
    except (AttributeError, TypeError):  # an immutable source: rebuild the kernel with ours
        import dataclasses

        kernel = dataclasses.replace(kernel, source=source)
    return kernel
