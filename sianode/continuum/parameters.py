"""Material parameters of the continuum model, each value tagged with its source.

Every number the stress model uses is a :class:`Parameter` (value, unit, source); the
source is a citation string or the key of a results-store document. Defaults for pure
crystalline Si come from the review of Je, Han, Ryu, Park (Acc. Mater. Res. 2023,
"Constructing Pure Si Anodes for Advanced Lithium Batteries", Table 1, its refs 20-23)
and from the literature cited beside each value.

Derived defaults
----------------
Molar volume of Si: V_m = M / rho = 28.0855 g/mol / 2.329 g/cm^3 = 12.06 cm^3/mol.

Partial molar volume of Li: full lithiation to Li15Si4 (x = 3.75 Li per Si) expands Si by
about 280 % (Obrovac, Christensen, Electrochem. Solid-State Lett. 7 (2004) A93; Beaulieu
et al., Electrochem. Solid-State Lett. 4 (2001) A137), i.e. Delta V / V_0 = 2.8, so per
mole of Li::

    Omega = 2.8 * V_m / x = 2.8 * 12.06 cm^3/mol / 3.75 = 9.0 cm^3/mol = 9.0e-6 m^3/mol.

Maximum Li concentration: the small-strain model measures c per unit volume of the
unlithiated (reference) Si, so that Omega * c_max = Delta V / V_0 = 2.8::

    c_max = x / V_m = 3.75 / 12.06e-6 m^3/mol = 3.11e5 mol/m^3.

(Per unit volume of the lithiated phase, from the density of Li15Si4, 1.18 g/cm^3, and
M(Li15Si4) = 216.4 g/mol: 15 * 1.18e6 / 216.4 = 8.2e4 mol/m^3 = 3.11e5 / 3.8, the same
amount of Li.)

Diffusivity of a dopant concentration (PHYSICS.md sections 5-6): Pell's measured pure-Si
D (Phys. Rev. 119 (1960) 1222) times the ratio of the exact effective diffusivities of the
doped and the pure hop networks of one calculator at the same temperature::

    D_X(T) = D_Pell(T) * D_eff,X(T) / D_eff,pure(T).

The ratio is a number handed in (``atomistic["diffusivity_ratio"]``); this module reads no
database: :func:`sianode.analysis.persist.atomistic_inputs` computes it from the store and
:func:`sianode.analysis.persist.parameters_from_store` combines the two. The harmonic TST
formulas themselves live in :mod:`sianode.transport`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, fields
from typing import Any

from sianode.constants import K_B_EV_K, PELL_1960, PELL_D0_M2_S, PELL_EA_EV
from sianode.errors import InputError

logger = logging.getLogger(__name__)

#: molar volume of Si, m^3/mol (28.0855 g/mol / 2.329 g/cm^3).
SI_MOLAR_VOLUME_M3_MOL = 28.0855e-3 / 2329.0
#: Li per Si in fully lithiated Li15Si4.
LI15SI4_X = 3.75
#: volume change of Si on full lithiation to Li15Si4 (280 %).
LI15SI4_VOLUME_CHANGE = 2.8

DOPANTS = ("B", "P", "S", "Ge")
PURE_NAMES = (None, "", "si", "pure", "none")

REVIEW = "Je, Han, Ryu, Park, Acc. Mater. Res. (2023), 'Constructing Pure Si Anodes', Table 1"
VINEYARD_1957 = ("hop rates k = nu exp(-(E_saddle - E_site)/kT), harmonic TST (Vineyard, J. Phys. Chem. Solids 3 "
                 "(1957) 121); exact network D_eff (PHYSICS.md section 6)")


@dataclass(frozen=True)
class Parameter:
    """One material parameter with its unit and where it came from.

    Attributes
    ----------
    value : float
        The number, in ``unit``.
    unit : str
        SI unit (``"m^2/s"``, ``"Pa"``, ``"1"`` for dimensionless).
    source : str
        Citation string, or a description of the results-store documents it came from.
    sources : tuple of str
        Keys of the results-store documents the value came from (empty for a citation).
    """

    value: float
    unit: str
    source: str
    sources: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """``{"value", "unit", "source"}``, plus ``"sources"`` (document keys) when there are any."""
        d: dict[str, Any] = {"value": self.value, "unit": self.unit, "source": self.source}
        if self.sources:
            d["sources"] = list(self.sources)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Parameter:
        return cls(float(d["value"]), str(d["unit"]), str(d["source"]), tuple(str(k) for k in d.get("sources") or ()))


def _p(value: float, unit: str, source: str) -> Any:
    return field(default_factory=lambda: Parameter(value, unit, source))


def pell_diffusivity(T_K: float = 300.0) -> float:
    """Li diffusivity in c-Si from Pell's Arrhenius fit, m^2/s (Pell, Phys. Rev. 119 (1960) 1222).

    D = 2.3e-3 cm^2/s exp(-0.66 eV / k_B T); measured at 25-1350 C, so room temperature is
    the low end of the fit. At 300 K: 1.9e-18 m^2/s.
    """
    return PELL_D0_M2_S * math.exp(-PELL_EA_EV / (K_B_EV_K * T_K))


@dataclass(frozen=True)
class ContinuumParameters:
    """Every parameter of the continuum stress model, each a :class:`Parameter`.

    Elastic stresses are computed with the lithiated phase (``youngs_lisi_pa``,
    ``poisson_lisi``): the stress-carrying material is the Li_xSi shell. The c-Si values
    are used by the ``hoop_strength`` criterion. Override any field by name through
    :func:`parameters_for` (``overrides={"diffusivity_m2_s": 1e-16}``).

    Attributes
    ----------
    diffusivity_m2_s : Parameter
        Li diffusivity D, m^2/s.
    omega_m3_mol : Parameter
        Partial molar volume of Li, Omega, m^3/mol (lithiation strain Omega c / 3).
    c_max_mol_m3 : Parameter
        Li concentration of Li15Si4 per reference volume of Si, mol/m^3.
    youngs_csi_pa, poisson_csi, yield_csi_pa : Parameter
        Crystalline Si: Young's modulus (Pa), Poisson ratio, yield point (Pa).
    youngs_lisi_pa, poisson_lisi, yield_lisi_pa : Parameter
        Lithiated Li_xSi: Young's modulus (Pa), Poisson ratio, yield point (Pa).
    fracture_energy_j_m2 : Parameter
        Fracture energy Gamma of lithiated Si, J/m^2.
    flaw_depth_fraction : Parameter
        Depth of the assumed surface flaw as a fraction of the particle radius.
    edge_crack_factor : Parameter
        Geometry factor F of an edge crack, K = F sigma sqrt(pi b).
    temperature_k : Parameter
        Temperature, K.
    dopant : str or None
        Dopant element, None for pure Si.
    percent : float or None
        Dopant atom %.
    """

    diffusivity_m2_s: Parameter = _p(pell_diffusivity(300.0), "m^2/s", PELL_1960 + ", at 300 K")
    omega_m3_mol: Parameter = _p(
        LI15SI4_VOLUME_CHANGE * SI_MOLAR_VOLUME_M3_MOL / LI15SI4_X,
        "m^3/mol",
        "2.8 x V_m(Si) / 3.75 from the 280 % volume change at Li15Si4 (Obrovac, Christensen, "
        "Electrochem. Solid-State Lett. 7 (2004) A93)",
    )
    c_max_mol_m3: Parameter = _p(
        LI15SI4_X / SI_MOLAR_VOLUME_M3_MOL,
        "mol/m^3",
        "3.75 Li / V_m(Si) (Li15Si4 per reference Si volume; Si 2.329 g/cm^3, 28.0855 g/mol)",
    )
    youngs_csi_pa: Parameter = _p(
        185e9,
        "Pa",
        REVIEW + " ref 20: Wortman, Evans, J. Appl. Phys. 36 (1965) 153",
    )
    poisson_csi: Parameter = _p(
        0.22, "1", "Wortman, Evans, J. Appl. Phys. 36 (1965) 153 (isotropic average for c-Si)"
    )
    yield_csi_pa: Parameter = _p(
        7e9,
        "Pa",
        REVIEW + " ref 21: Kovacs, Micromachined Transducers Source Book (McGraw-Hill, 1998)",
    )
    youngs_lisi_pa: Parameter = _p(
        35e9,
        "Pa",
        REVIEW + " ref 22: Hertzberg, Benson, Yushin, Electrochem. Commun. 13 (2011) 818",
    )
    poisson_lisi: Parameter = _p(
        0.24, "1", "Shenoy, Johari, Qi, J. Power Sources 195 (2010) 6825 (Li-Si phases)"
    )
    yield_lisi_pa: Parameter = _p(
        1e9,
        "Pa",
        REVIEW + " ref 23: Sethuraman et al., J. Power Sources 195 (2010) 5062",
    )
    fracture_energy_j_m2: Parameter = _p(
        8.5,
        "J/m^2",
        "Pharr, Suo, Vlassak, Nano Lett. 13 (2013) 5570 (fracture energy of lithiated Si "
        "films, about 5-12 J/m^2; representative value)",
    )
    flaw_depth_fraction: Parameter = _p(
        1.0,
        "1",
        "assumption: largest flaw a particle can hold, depth ~ radius (crack comparable to "
        "particle size, as in Zhao et al., J. Appl. Phys. 109 (2011) 016110); not fitted",
    )
    edge_crack_factor: Parameter = _p(
        1.1215,
        "1",
        "Tada, Paris, Irwin, The Stress Analysis of Cracks Handbook, 3rd ed. (2000): "
        "edge crack in a half plane, K = 1.1215 sigma sqrt(pi b)",
    )
    temperature_k: Parameter = _p(300.0, "K", "room temperature (assumed)")
    dopant: str | None = None
    percent: float | None = None

    def __post_init__(self) -> None:
        positive = (
            "diffusivity_m2_s",
            "omega_m3_mol",
            "c_max_mol_m3",
            "youngs_csi_pa",
            "yield_csi_pa",
            "youngs_lisi_pa",
            "yield_lisi_pa",
            "fracture_energy_j_m2",
            "flaw_depth_fraction",
            "edge_crack_factor",
            "temperature_k",
        )
        for name in positive:
            value = getattr(self, name).value
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"{name} = {value!r} is not allowed; it must be a positive number")
        for name in ("poisson_csi", "poisson_lisi"):
            value = getattr(self, name).value
            if not (-1.0 < value < 0.5):
                raise InputError(f"{name} = {value!r} is not allowed; a Poisson ratio lies in (-1, 0.5)")

    # convenience accessors for the stress model (lithiated phase)
    @property
    def youngs_pa(self) -> float:
        """Young's modulus used for the elastic stresses (Li_xSi), Pa."""
        return self.youngs_lisi_pa.value

    @property
    def poisson(self) -> float:
        """Poisson ratio used for the elastic stresses (Li_xSi)."""
        return self.poisson_lisi.value

    def parameters(self) -> dict[str, Parameter]:
        """The :class:`Parameter` fields by name, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), Parameter)}

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {name: p.as_dict() for name, p in self.parameters().items()}
        d["dopant"] = self.dopant
        d["percent"] = self.percent
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContinuumParameters:
        kwargs: dict[str, Any] = {"dopant": d.get("dopant"), "percent": d.get("percent")}
        for f in fields(cls):
            if f.name in d and f.name not in ("dopant", "percent"):
                kwargs[f.name] = Parameter.from_dict(d[f.name])
        return cls(**kwargs)

    def table(self, title: str | None = None) -> Any:
        """A :class:`rich.table.Table` of name, value, unit and source."""
        from rich.table import Table

        label = "pure Si" if self.dopant is None else f"{self.dopant} {self.percent} %"
        table = Table(title=title or f"Continuum parameters ({label})")
        for col in ("parameter", "value", "unit", "source"):
            table.add_column(col, overflow="fold")
        for name, p in self.parameters().items():
            table.add_row(name, f"{p.value:.4g}", p.unit, p.source)
        return table


#: override keys accepted by :func:`parameters_for`, by field name; short CLI-style aliases.
OVERRIDE_ALIASES = {
    "diffusivity": "diffusivity_m2_s",
    "omega": "omega_m3_mol",
    "c_max": "c_max_mol_m3",
    "youngs": "youngs_lisi_pa",
    "poisson": "poisson_lisi",
    "fracture_energy": "fracture_energy_j_m2",
}

_UNITS = {name: p.unit for name, p in ContinuumParameters().parameters().items()}


def is_pure(dopant: str | None) -> bool:
    """Whether ``dopant`` names pure Si (None, ``""``, ``"Si"``, ``"pure"``, ``"none"``)."""
    return dopant is None or dopant.strip().lower() in PURE_NAMES


def _normalise_dopant(dopant: str | None) -> str | None:
    if is_pure(dopant):
        return None
    assert dopant is not None
    for d in DOPANTS:
        if dopant.strip().lower() == d.lower():
            return d
    raise InputError(f"dopant {dopant!r} is not allowed; choose one of {', '.join(DOPANTS)} or 'Si'/'pure'")


def _entry(atomistic: dict[str, Any], key: str) -> tuple[float, str, tuple[str, ...], Any] | None:
    """(value, source, document keys, temperature_K) of an atomistic entry, None when absent."""
    entry = atomistic.get(key)
    if entry is None:
        return None
    if isinstance(entry, dict):
        sources = tuple(str(k) for k in entry.get("sources") or ())
        return float(entry["value"]), str(entry.get("source", "atomistic data")), sources, entry.get("temperature_K")
    return float(entry), "atomistic data", (), None


#: diffusivity models of :func:`parameters_for`
DIFFUSIVITY_MODELS = ("ratio", "absolute")


def _network_diffusivity(atomistic: dict[str, Any], T: float, model: str) -> Parameter | None:
    """D from the hop networks (``model`` ``ratio`` or ``absolute``), None when not given."""
    key = "diffusivity_ratio" if model == "ratio" else "D_eff_m2_s"
    entry = _entry(atomistic, key)
    if entry is None:
        return None
    value, source, sources, t_entry = entry
    if t_entry is not None and abs(float(t_entry) - T) > 1e-9:
        raise InputError(f"the atomistic {key} was computed at {float(t_entry):g} K but the continuum runs at "
                         f"{T:g} K; compute it at {T:g} K (atomistic_inputs(..., temperature_K={T:g}))")
    if model == "ratio":
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"diffusivity_ratio = {value!r} is not allowed; D_eff / D_eff,pure must be > 0")
        return Parameter(pell_diffusivity(T) * value, "m^2/s",
                         f"{PELL_1960} at {T:g} K x {source}; {VINEYARD_1957}", sources)
    return Parameter(value, "m^2/s", f"{source}; {VINEYARD_1957}", sources)


def parameters_for(
    dopant: str | None,
    percent: float | None,
    atomistic: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    diffusivity_model: str = "ratio",
) -> ContinuumParameters:
    """Build the parameter set for pure Si or one dopant concentration.

    Diffusivity (``diffusivity_m2_s``), first that applies:

    1. ``overrides["diffusivity"]`` (a user's number);
    2. ``diffusivity_model="ratio"`` (default): D = D_Pell(T) x D_eff / D_eff,pure with the
       ratio ``atomistic["diffusivity_ratio"]`` of the doped and pure hop networks of one
       calculator at the same temperature T (PHYSICS.md sections 5-6). Pell's measured
       pure-Si D (Phys. Rev. 119 (1960) 1222) is kept and only what the dopant changes in
       the whole network enters: a calculator's systematic barrier error cancels in the
       ratio, while in absolute TST it changes D by orders of magnitude;
       ``diffusivity_model="absolute"``: D = ``atomistic["D_eff_m2_s"]``, the network's own
       exact D_eff (harmonic TST rates, Vineyard 1957);
    3. pure Si: Pell's D at T;
    4. a dopant otherwise: :class:`InputError` saying why (``atomistic["reason"]``, e.g. the
       hop classes its network is missing) -- never a guessed number.

    An atomistic entry's ``temperature_K`` must equal the model's temperature
    (``overrides["temperature_k"]``, default 300 K). Omega from ``atomistic["omega_m3_mol"]``.
    Order of precedence otherwise: ``overrides`` > ``atomistic`` > cited defaults.

    Parameters
    ----------
    dopant : str or None
        ``"B"``, ``"P"``, ``"S"``, ``"Ge"``; None, ``"Si"`` or ``"pure"`` for pure Si.
    percent : float or None
        Dopant atom %.
    atomistic : dict, optional
        What :func:`sianode.analysis.persist.atomistic_inputs` returns:
        ``{"diffusivity_ratio": {"value": 0.4, "source": "...", "sources": [keys],
        "temperature_K": 300.0}, "D_eff_m2_s": {...}, "omega_m3_mol": {...}, "missing": [...],
        "reason": "..."}`` (plain numbers are accepted for the values too).
    overrides : dict, optional
        Field name (or alias in :data:`OVERRIDE_ALIASES`) -> SI value, or a
        :class:`Parameter`. Source of a plain value is ``"user override"``.
    diffusivity_model : {"ratio", "absolute"}
        See above.

    Returns
    -------
    ContinuumParameters

    Raises
    ------
    InputError
        Unknown dopant, model or override key, bad value, an atomistic value at another
        temperature, or a dopant with no diffusivity.
    """
    name = _normalise_dopant(dopant)
    atomistic = dict(atomistic or {})
    if diffusivity_model not in DIFFUSIVITY_MODELS:
        raise InputError(f"diffusivity model {diffusivity_model!r} is not allowed; allowed: "
                         f"{', '.join(DIFFUSIVITY_MODELS)}")
    resolved: dict[str, Parameter] = {}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        field_name = OVERRIDE_ALIASES.get(key, key)
        if field_name not in _UNITS:
            allowed = sorted(set(_UNITS) | set(OVERRIDE_ALIASES))
            raise InputError(f"override {key!r} is not a continuum parameter; allowed: {', '.join(allowed)}")
        resolved[field_name] = (value if isinstance(value, Parameter)
                                else Parameter(float(value), _UNITS[field_name], "user override"))

    T = resolved["temperature_k"].value if "temperature_k" in resolved else 300.0
    if "diffusivity_m2_s" not in resolved:
        use_network = name is not None or diffusivity_model == "absolute"  # pure Si: Pell itself (ratio 1)
        network = _network_diffusivity(atomistic, T, diffusivity_model) if use_network else None
        if network is not None:
            resolved["diffusivity_m2_s"] = network
        elif name is not None:
            why = atomistic.get("reason")
            if why:
                at = f" {float(percent):g} %" if percent is not None else ""
                raise InputError(f"no diffusivity for {name}{at}: {why}; compute the missing classes "
                                 "(sianode run) or pass --diffusivity")
            raise InputError(
                f"no atomistic data for dopant {name} and no default; run a campaign for it "
                "or pass --diffusivity"
            )
        elif T != 300.0:
            resolved["diffusivity_m2_s"] = Parameter(pell_diffusivity(T), "m^2/s", f"{PELL_1960}, at {T:g} K")
    omega = _entry(atomistic, "omega_m3_mol")
    if omega is not None and "omega_m3_mol" not in resolved:
        resolved["omega_m3_mol"] = Parameter(omega[0], "m^3/mol", omega[1], omega[2])
    params = ContinuumParameters(dopant=name, percent=None if percent is None else float(percent), **resolved)
    logger.debug("continuum parameters for %s %s: %s", name, percent, params.as_dict())
    return params


__all__ = [
    "ContinuumParameters",
    "DIFFUSIVITY_MODELS",
    "Parameter",
    "is_pure",
    "parameters_for",
    "pell_diffusivity",
]
