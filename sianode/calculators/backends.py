"""The calculators sianode knows by name; importing this module registers them.

Heavy libraries (torch, sevenn, chgnet, gpaw) are imported inside the factories only.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from pathlib import Path
from typing import Any

from sianode.calculators.registry import (
    CHGNET_CHECKPOINTS,
    SEVENNET_CHECKPOINTS,
    SEVENNET_DOWNLOADED,
    Backend,
    CalculatorSpec,
    package_dir,
    register_backend,
)
from sianode.errors import InputError

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
TERSOFF_FILE = DATA_DIR / "tersoff_si.json"


def _all_elements() -> frozenset[str]:
    from ase.data import chemical_symbols

    return frozenset(chemical_symbols[1:])


def _no_weights(parameters: dict[str, Any]) -> Path | None:
    return None


# ---------------------------------------------------------------- SevenNet
def _sevennet_weights(parameters: dict[str, Any]) -> Path | None:
    root = package_dir("sevenn")
    relative = SEVENNET_CHECKPOINTS.get(str(parameters["model"]).lower())
    if root is None or relative is None:
        return None
    return root / relative


def _sevennet_validate(parameters: dict[str, Any]) -> None:
    model = str(parameters["model"]).lower()
    if model in SEVENNET_DOWNLOADED:
        raise InputError(f"SevenNet model {model!r} is not inside the installed sevenn wheel (it would be "
                         f"downloaded, which sianode never does); offline models: {', '.join(SEVENNET_CHECKPOINTS)}")
    if model not in SEVENNET_CHECKPOINTS:
        raise InputError(f"unknown SevenNet model {model!r}; allowed: {', '.join(SEVENNET_CHECKPOINTS)}")


def _make_sevennet(spec: CalculatorSpec) -> Any:
    path = spec.weights_path
    if path is None or not path.is_file():
        raise InputError(f"weights of SevenNet model {spec.model!r} are not in the installed sevenn wheel "
                         f"(looked for {path}); install sevenn>=0.11,<0.14 with `make install`")
    try:
        from sevenn.calculator import SevenNetCalculator
    except ImportError as exc:  # pragma: no cover - sevenn is a core dependency
        raise InputError(f"calculator {spec.name!r} needs the sevenn package: {exc}") from exc
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No tensor product accelerator")
        return SevenNetCalculator(model=str(path), file_type="checkpoint", device="cpu")


def _sevennet_elements(spec: CalculatorSpec) -> frozenset[str]:
    from ase.data import chemical_symbols

    calc = spec.make()
    return frozenset(chemical_symbols[int(z)] for z in calc.type_map)


# ---------------------------------------------------------------- CHGNet
def _chgnet_weights(parameters: dict[str, Any]) -> Path | None:
    root = package_dir("chgnet")
    relative = CHGNET_CHECKPOINTS.get(str(parameters["model"]))
    if root is None or relative is None:
        return None
    return root / relative


def _chgnet_validate(parameters: dict[str, Any]) -> None:
    if str(parameters["model"]) not in CHGNET_CHECKPOINTS:
        raise InputError(f"unknown CHGNet model {parameters['model']!r}; allowed: {', '.join(CHGNET_CHECKPOINTS)}")


def _make_chgnet(spec: CalculatorSpec) -> Any:
    path = spec.weights_path
    if path is None or not path.is_file():
        raise InputError(f"weights of CHGNet model {spec.model!r} are not in the installed chgnet wheel "
                         f"(looked for {path})")
    from chgnet.model import CHGNet
    from chgnet.model.dynamics import CHGNetCalculator

    with contextlib.redirect_stdout(io.StringIO()):  # chgnet prints the device
        model = CHGNet.from_file(str(path), mlp_out_bias=spec.model == "0.2.0", version=spec.model)
        return CHGNetCalculator(model=model, use_device="cpu", on_isolated_atoms="ignore")


def _chgnet_elements(spec: CalculatorSpec) -> frozenset[str]:
    from ase.data import chemical_symbols

    return frozenset(chemical_symbols[1:95])  # CHGNet's atom embedding covers Z = 1..94


# ---------------------------------------------------------------- GPAW
def _gpaw_validate(parameters: dict[str, Any]) -> None:
    if not (isinstance(parameters["ecut_eV"], (int, float)) and parameters["ecut_eV"] > 0):
        raise InputError(f"gpaw ecut_eV must be a positive number, got {parameters['ecut_eV']!r}")
    if not (isinstance(parameters["kpts_density"], (int, float)) and parameters["kpts_density"] > 0):
        raise InputError(f"gpaw kpts_density must be a positive number (k-points per 1/A), "
                         f"got {parameters['kpts_density']!r}")


def _make_gpaw(spec: CalculatorSpec) -> Any:
    try:
        from gpaw import GPAW, PW
    except ImportError:
        raise InputError("calculator 'gpaw' needs GPAW, which is not installed: install with `make dft` "
                         "(the sianode[dft] extra)") from None
    p = spec.parameters
    return GPAW(mode=PW(p["ecut_eV"]), xc=p["xc"], kpts={"density": p["kpts_density"], "gamma": True},
                occupations={"name": "fermi-dirac", "width": p["smearing_eV"]}, txt=None)


# ---------------------------------------------------------------- Tersoff
def load_tersoff_data() -> dict[str, Any]:
    """The bundled Tersoff (1988) Si parameter file, with citations and licence note."""
    return json.loads(TERSOFF_FILE.read_text(encoding="utf-8"))


def _tersoff_validate(parameters: dict[str, Any]) -> None:
    variants = load_tersoff_data()["variants"]
    if parameters["variant"] not in variants:
        raise InputError(f"unknown Tersoff variant {parameters['variant']!r}; allowed: {', '.join(variants)}")


def _make_tersoff(spec: CalculatorSpec) -> Any:
    from ase.calculators.tersoff import Tersoff, TersoffParameters

    values = load_tersoff_data()["variants"][spec.parameters["variant"]]["parameters"]
    return Tersoff(parameters={("Si", "Si", "Si"): TersoffParameters(**values)})


# ---------------------------------------------------------------- SW and the test pair potential
def _make_sw(spec: CalculatorSpec) -> Any:
    from sianode.calculators.sw import StillingerWeber

    return StillingerWeber()


def _make_lj(spec: CalculatorSpec) -> Any:
    from sianode.calculators.pair import TestPairPotential

    return TestPairPotential(epsilon_eV=spec.parameters["epsilon_eV"], cutoff_A=spec.parameters["cutoff_A"])


def _lj_validate(parameters: dict[str, Any]) -> None:
    for key in ("epsilon_eV", "cutoff_A"):
        if not (isinstance(parameters[key], (int, float)) and parameters[key] > 0):
            raise InputError(f"lj-test {key} must be a positive number, got {parameters[key]!r}")


def _lj_elements(spec: CalculatorSpec) -> frozenset[str]:
    from sianode.calculators.pair import supported_symbols

    return supported_symbols()


register_backend(Backend(
    name="sevennet", what="SevenNet 7net-0 universal ML potential (sevenn, MIT; weights in the wheel)",
    package="sevenn", defaults={"model": "7net-0"}, factory=_make_sevennet, weights=_sevennet_weights,
    elements=_sevennet_elements, validate=_sevennet_validate, uses_torch=True))
register_backend(Backend(
    name="sevennet-l3i5", what="SevenNet 7net-l3i5 ML potential (sevenn, MIT; larger, slower)",
    package="sevenn", defaults={"model": "7net-l3i5"}, factory=_make_sevennet, weights=_sevennet_weights,
    elements=_sevennet_elements, validate=_sevennet_validate, uses_torch=True))
register_backend(Backend(
    name="chgnet", what="CHGNet 0.3.0 universal ML potential (chgnet, BSD; weights in the wheel)",
    package="chgnet", defaults={"model": "0.3.0"}, factory=_make_chgnet, weights=_chgnet_weights,
    elements=_chgnet_elements, validate=_chgnet_validate, uses_torch=True))
register_backend(Backend(
    name="gpaw", what="GPAW DFT, PBE plane waves (extra sianode[dft]: `make dft`)", package="gpaw",
    defaults={"ecut_eV": 400.0, "kpts_density": 3.5, "xc": "PBE", "smearing_eV": 0.01},
    factory=_make_gpaw, weights=_no_weights, elements=lambda spec: _all_elements(), validate=_gpaw_validate))
register_backend(Backend(
    name="tersoff", what="Tersoff 1988 Si potential (ASE Tersoff; Si only)", package="ase",
    defaults={"variant": "Si(C)"}, factory=_make_tersoff, weights=lambda p: TERSOFF_FILE,
    elements=lambda spec: frozenset({"Si"}), validate=_tersoff_validate))
register_backend(Backend(
    name="sw", what="Stillinger-Weber 1985 Si potential (sianode numpy; Si only)", package="sianode",
    defaults={}, factory=_make_sw, weights=_no_weights, elements=lambda spec: frozenset({"Si"})))
register_backend(Backend(
    name="lj-test", what="NOT PHYSICS: cheap Lennard-Jones pair potential for tests and drills, any element",
    package="sianode", defaults={"epsilon_eV": 0.5, "cutoff_A": 5.0}, factory=_make_lj, weights=_no_weights,
    elements=_lj_elements, validate=_lj_validate, not_physics=True))
