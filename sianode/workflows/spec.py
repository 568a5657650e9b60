"""Campaign specs: a YAML file validated on load (pydantic), nothing in it executed.

A campaign is "these dopants at these atom % (or counts), Li at these T sites, these
hops, with this calculator". Example (``sianode init`` writes a commented one)::

    name: demo
    dopants: [B, P, S, Ge]
    percents: [1.5, 3.1, 6.25]
    calculator: {name: sevennet-mf0}

Keys and defaults
-----------------
=====================  =============  =====================================================
key                    default        allowed
=====================  =============  =====================================================
``name``               (required)     letters, digits, ``_ . -``; 1-64 characters
``dopants``            (required)     element symbols (B, P, S, Ge or any the calculator
                                      supports; not Si, not noble gases)
``percents``           --             atom %, each 0 < p < 50, achievable in a supercell
                                      n <= ``max_supercell`` (within max(0.25 p, 0.1))
``counts``             --             dopants per cell instead of ``percents`` (cell n =
                                      ``max_supercell``)
``max_supercell``      2              1-4: conventional cell repeated n x n x n (8 n^3 sites)
``include_pure``       true           also pure Si hosts (dopant "Si", percent 0)
``sites``              ``all``        ``all`` T classes, or ``{nearest: k}``: the k closest
``hops``               ``all``        ``all`` hop paths (one NEB per H-site class), ``near``,
                                      ``far``, ``none``, ``{within: R}`` (saddle within R
                                      Angstrom of a dopant, R > 0) or a list of them
``calculator``         sevennet-mf0   ``{name: ..., parameters: {...}}``
``relax``              fmax 0.05,     ``fmax`` (eV/A, > 0), ``steps`` (>= 1), ``host_cell``
                       steps 300,     (true/false: relax each host's cell, see below)
                       host_cell
                       true
``neb``                n_images 5,    ``n_images`` 1-15, ``fmax`` (eV/A), ``steps``, ``climb``
                       fmax 0.05,
                       steps 500
``reference``          fmax 0.01      bcc-Li relaxation ``fmax`` (eV/A)
``arrangements``       ``dispersed``  which symmetry-distinct dopant arrangements per
                                      (dopant, %): ``dispersed`` (dopants farthest apart),
                                      ``compact``, ``{dispersed: n}``, ``{compact: n}``,
                                      ``{classes: [ids]}``, ``{ensemble: {max: n,
                                      temperature_K: T or inf}}``, ``sqs`` (see
                                      :mod:`sianode.structures.strategies`)
``max_arrangements``   --             old spelling of ``{compact: n}`` (still accepted;
                                      not together with ``arrangements``)
``threads``            1              torch / OpenMP threads per worker
``fireworks``          ``auto``       ``calculation``: one Firework per calculation (most
                                      parallel); ``host``: one Firework per host running its
                                      insertions and hops in turn (far fewer FireWorks
                                      updates: campaigns of thousands); ``auto``: ``host``
                                      from 64 hosts on (not part of the spec hash)
=====================  =============  =====================================================

Host cells (``relax.host_cell``)
--------------------------------
The calculator's own lattice constant ``a`` comes first: the pure conventional 8-atom Si
cell relaxed with its cell. Every host (pure and doped) is built at that ``a``. With
``host_cell: true`` (default) each host is then relaxed with its cell: positions and all
six cell degrees of freedom through ASE's ``FrechetCellFilter`` (the cell is not held
cubic: a dopant arrangement of lower symmetry may shear or stretch it slightly), so a
doped host at a finite concentration gets its own volume (Vegard-like expansion for Ge,
contraction for B); a pure host keeps the lattice stage's cell within the force
criterion. Li insertions, hop end points and NEBs then use that relaxed host cell at FIXED
cell: one Li in the 64-site cell is the dilute-Li limit of the host at that dopant
concentration. The cell is converged to the same ``relax.fmax``: FrechetCellFilter's cell
"forces" are the virial / N atoms, so the residual stress is up to fmax N / V (64 sites at
fmax 0.05 eV/A: about 0.4 GPa, a volume strain of about 0.4 % in Si); tighten ``relax.fmax``
to resolve smaller volume changes. With ``host_cell: false`` hosts are relaxed at fixed cell at
the pure ``a`` (the behaviour, content keys and spec hash of campaigns before this key existed).

Exactly one of ``percents`` and ``counts``. Every error is one line naming the key, the
bad value and what is allowed, as an :class:`~sianode.errors.InputError`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sianode.calculators.registry import DEFAULT_CALCULATOR
from sianode.errors import InputError

if TYPE_CHECKING:
    from sianode.calculators import CalculatorSpec

log = logging.getLogger(__name__)

HOP_CHOICES = ("near", "far", "all", "none")

_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalculatorSettings(_Strict):
    """Which calculator, with which parameters (see ``sianode calculators``)."""

    name: str = Field(DEFAULT_CALCULATOR, description="a calculator name of `sianode calculators list`")
    parameters: dict[str, Any] = Field(default_factory=dict, description="the calculator's parameters")


class RelaxSettings(_Strict):
    """Relaxations of hosts (cell relaxed with ``host_cell``) and host + Li (fixed cell)."""

    fmax: float = Field(0.05, gt=0, le=5, description="force criterion, eV/A (0 < fmax <= 5)")
    steps: int = Field(300, ge=1, le=100000, description="maximum optimizer steps (1-100000)")
    host_cell: bool = Field(True, description="relax each host's cell too (true/false); Li insertions and "
                                              "hops then use that cell, fixed")


class NEBSettings(_Strict):
    """Climbing-image NEB of the selected hops."""

    n_images: int = Field(5, ge=1, le=15, description="intermediate images (1-15)")
    fmax: float = Field(0.05, gt=0, le=5, description="force criterion, eV/A (0 < fmax <= 5)")
    steps: int = Field(500, ge=1, le=100000, description="maximum optimizer steps (1-100000)")
    climb: bool = Field(True, description="climbing image (true/false)")


class ReferenceSettings(_Strict):
    """The bcc-Li reference (mu_Li) of the calculator."""

    fmax: float = Field(0.01, gt=0, le=5, description="force criterion, eV/A (0 < fmax <= 5)")


class HopsWithin(_Strict):
    """Every hop path whose saddle (H site) lies within ``within`` Angstrom of a dopant."""

    within: float = Field(..., gt=0, allow_inf_nan=False, description="radius in Angstrom (> 0)")


_HOPS_ALLOWED = "near, far, all, none, {within: R} (R > 0, Angstrom), or a list such as [near, {within: 4}]"


def _check_hops(value: Any) -> Any:
    """One clear message for a bad ``hops`` value (before pydantic's union errors)."""
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        raise ValueError("an empty list selects no hop; write none")
    for item in items:
        if isinstance(item, str):
            if item not in HOP_CHOICES:
                raise ValueError(f"{item!r} is not a hop selection")
            if item == "none" and isinstance(value, list):
                raise ValueError("none cannot be part of a list")
        elif isinstance(item, dict):
            if set(item) != {"within"}:
                raise ValueError(f"{item!r} is not a hop selection (the only mapping is {{within: R}})")
            r = item["within"]
            if isinstance(r, bool) or not isinstance(r, (int, float)) or not math.isfinite(r) or r <= 0:
                raise ValueError(f"within = {r!r} must be a number of Angstrom > 0")
        elif not isinstance(item, HopsWithin):
            raise ValueError(f"{item!r} is not a hop selection")
    return value


_ARRANGEMENTS_ALLOWED = ("dispersed, compact, {dispersed: n}, {compact: n}, {classes: [ids]}, "
                         "{ensemble: {max: n, temperature_K: T or inf}}, sqs")


def _check_arrangements(value: Any) -> Any:
    """The canonical JSON-safe spelling of an ``arrangements`` value; one clear message otherwise."""
    from sianode.structures.strategies import StrategyError, parse_strategy

    try:
        return parse_strategy(value).as_dict()
    except StrategyError as exc:
        raise ValueError(exc.problem) from None


class NearestSites(_Strict):
    """The ``k`` T-site classes closest to a dopant."""

    nearest: int = Field(..., ge=1, le=1000, description="number of closest T-site classes (>= 1)")


class CampaignSpec(_Strict):
    """A validated campaign (see the module docstring for every key)."""

    name: str = Field(..., pattern=_NAME_PATTERN,
                      description="letters, digits, '_', '.', '-' (1-64 characters, first a letter or digit)")
    dopants: list[str] = Field(..., min_length=1,
                               description="B, P, S, Ge or any element symbol the calculator supports")
    percents: list[Annotated[float, Field(gt=0, lt=50)]] | None = Field(
        None, min_length=1, description="atom % values, each 0 < p < 50")
    counts: list[Annotated[int, Field(ge=1, le=64)]] | None = Field(
        None, min_length=1, description="dopants per cell, integers 1-64")
    max_supercell: int = Field(2, ge=1, le=4, description="largest supercell n (1-4; 8 n^3 sites)")
    include_pure: bool = Field(True, description="true or false")
    sites: Union[Literal["all"], NearestSites] = Field("all", description="'all' or {nearest: k}")
    hops: Union[Literal["near", "far", "all", "none"], HopsWithin,
                list[Union[Literal["near", "far", "all"], HopsWithin]]] = Field("all", description=_HOPS_ALLOWED)
    calculator: CalculatorSettings = Field(default_factory=CalculatorSettings,
                                           description="{name: ..., parameters: {...}}")
    relax: RelaxSettings = Field(default_factory=RelaxSettings, description="{fmax: eV/A, steps: n}")
    neb: NEBSettings = Field(default_factory=NEBSettings,
                             description="{n_images: n, fmax: eV/A, steps: n, climb: bool}")
    reference: ReferenceSettings = Field(default_factory=ReferenceSettings, description="{fmax: eV/A}")
    arrangements: Any = Field("dispersed", description=_ARRANGEMENTS_ALLOWED)
    max_arrangements: int | None = Field(None, ge=1, le=1000,
                                         description="old spelling of arrangements: {compact: n}, n 1-1000")
    threads: int = Field(1, ge=1, le=256, description="threads per worker, 1-256")
    fireworks: Literal["auto", "calculation", "host"] = Field(
        "auto", description="auto, calculation (one Firework per calculation) or host (one per host)")

    _hops_check = field_validator("hops", mode="before")(_check_hops)
    _arrangements_check = field_validator("arrangements", mode="before")(_check_arrangements)

    # ------------------------------------------------------------ derived
    @property
    def hop_selections(self) -> tuple[str, ...]:
        """The hop selections as a tuple of names (empty for ``none``): ``near``, ``far``,
        ``all`` and ``within:R`` (R in Angstrom) for ``{within: R}``; each is accepted by
        :func:`~sianode.structures.select_hop_paths`."""
        raw = self.hops if isinstance(self.hops, list) else [self.hops]
        sel = tuple(f"within:{h.within:g}" if isinstance(h, HopsWithin) else h for h in raw)
        return () if sel == ("none",) else tuple(dict.fromkeys(sel))

    @property
    def arrangement_strategy(self) -> Any:
        """The :class:`~sianode.structures.strategies.ArrangementStrategy` of this campaign:
        ``arrangements``, or ``{compact: n}`` for the old key ``max_arrangements: n``."""
        from sianode.structures.strategies import ArrangementStrategy, parse_strategy

        if self.max_arrangements is not None and "arrangements" not in self.model_fields_set:
            return ArrangementStrategy(kind="compact", count=self.max_arrangements)
        return parse_strategy(self.arrangements)

    @property
    def nearest_sites(self) -> int | None:
        """``k`` of ``sites: {nearest: k}``, None for ``all``."""
        return None if self.sites == "all" else self.sites.nearest  # type: ignore[union-attr]

    def calculator_spec(self) -> CalculatorSpec:
        """The :class:`~sianode.calculators.CalculatorSpec` of this campaign."""
        from sianode.calculators import get_calculator

        return get_calculator(self.calculator.name, threads=self.threads, **self.calculator.parameters)

    def as_dict(self) -> dict[str, Any]:
        """Plain, JSON-safe form (round trips through :func:`campaign_from_dict`); it holds
        ``max_arrangements`` (a spec of the old spelling, hashed as before) or ``arrangements``."""
        data = json.loads(self.model_dump_json())
        data.pop("arrangements" if self.max_arrangements is not None else "max_arrangements", None)
        return data

    def spec_hash(self) -> str:
        """SHA-256 of everything that defines the results (``threads`` and ``fireworks`` left out; ``relax.host_cell``
        left out when false, so specs written before that key keep their hash)."""
        data = self.as_dict()
        data.pop("threads", None)
        data.pop("fireworks", None)  # how the work is cut into Fireworks, not what it computes
        if not data["relax"].get("host_cell", True):
            # host_cell: false is what every campaign did before the key existed: same hash
            data["relax"].pop("host_cell")
        return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# ------------------------------------------------------------------ errors
def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("list[literal['near','far','all']]", "literal['all']", "NearestSites", "function-after"):
            continue  # union branch names pydantic puts in the location
        elif str(part).startswith(("literal[", "list[")):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: Any = CampaignSpec
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            continue
        ann = field.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else (
            NearestSites if part == "sites" else None)
    return model


def _allowed(loc: tuple[Any, ...]) -> str:
    model: Any = CampaignSpec
    text = ""
    for part in loc:
        if isinstance(part, int) or not isinstance(part, str):
            continue
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            continue
        field = fields[part]
        text = field.description or ""
        ann = field.annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else (
            NearestSites if part == "sites" else None)
    return text


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validation_message(exc: ValidationError, source: str) -> str:
    """One line from the first pydantic error: key, bad value, allowed values."""
    errors = exc.errors()
    # prefer the most specific error of a union (the longest location)
    head = errors[0]["loc"][:1]
    same = [e for e in errors if e["loc"][:1] == head]
    first = max(same, key=lambda e: len(e["loc"]))
    loc = tuple(first["loc"])
    key = _loc(loc)
    n_more = len({e["loc"][:1] for e in errors}) - 1
    more = f" (and {n_more} more problem{'s' if n_more > 1 else ''})" if n_more else ""
    if first["type"] == "extra_forbidden":
        model = _model_at(loc[:-1]) or CampaignSpec
        keys = ", ".join(model.model_fields)
        return f"{source}: {key}: unknown key; allowed keys: {keys}{more}"
    if first["type"] == "missing":
        return f"{source}: {key}: required key is missing; allowed: {_allowed(loc)}{more}"
    msg = first["msg"].replace("Value error, ", "")
    allowed = _allowed(loc)
    tail = f"; allowed: {allowed}" if allowed else ""
    return f"{source}: {key} = {_short(first.get('input'))}: {msg}{tail}{more}"


# ------------------------------------------------------------------ loading
def campaign_from_dict(data: Any, source: str = "campaign") -> CampaignSpec:
    """Validate a mapping into a :class:`CampaignSpec`; InputError (one line) otherwise."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a mapping of campaign keys at the top level, got "
                         f"{type(data).__name__}; allowed keys: {', '.join(CampaignSpec.model_fields)}")
    try:
        spec = CampaignSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_message(exc, source)) from None
    _check_semantics(spec, source)
    return spec


def load_campaign(path: str | Path) -> CampaignSpec:
    """Read and validate a campaign YAML file (``yaml.safe_load``; nothing is executed)."""
    import yaml

    path = Path(path)
    source = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the campaign file: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{source}: malformed YAML{where}: {problem}; allowed: a YAML mapping of campaign "
                         "keys (`sianode init` writes an example)") from None
    return campaign_from_dict(data, source)


def _check_semantics(spec: CampaignSpec, source: str) -> None:
    """Checks that need other layers: calculator, elements, achievable %."""
    from sianode.calculators import available_calculators

    if (spec.percents is None) == (spec.counts is None):
        raise InputError(f"{source}: percents / counts: give exactly one of them; allowed: "
                         "percents: [atom %, ...] or counts: [dopants per cell, ...]")
    if spec.max_arrangements is not None and "arrangements" in spec.model_fields_set:
        raise InputError(f"{source}: max_arrangements = {spec.max_arrangements}: give it or arrangements, not both; "
                         f"allowed: arrangements: {{compact: {spec.max_arrangements}}} (what max_arrangements meant)")
    if spec.calculator.name not in available_calculators():
        raise InputError(f"{source}: calculator.name = {spec.calculator.name!r} is not a calculator; "
                         f"allowed: {', '.join(available_calculators())}")
    try:
        calc = spec.calculator_spec()
    except InputError as exc:
        raise InputError(f"{source}: calculator.parameters = {_short(spec.calculator.parameters)}: {exc}") from None
    for i, dopant in enumerate(spec.dopants):
        _check_dopant(source, i, dopant, calc)
    if len(set(spec.dopants)) != len(spec.dopants):
        raise InputError(f"{source}: dopants = {spec.dopants!r}: a dopant is listed twice; allowed: each once")
    if spec.percents is not None:
        from sianode.structures import choose_cell

        cells = tuple(range(1, spec.max_supercell + 1))
        for i, p in enumerate(spec.percents):
            try:
                choose_cell(p, cells)
            except InputError as exc:
                raise InputError(f"{source}: percents[{i}] = {p!r}: {exc}; allowed: an atom % met by a supercell "
                                 f"n <= max_supercell = {spec.max_supercell}") from None
    else:
        n_sites = 8 * spec.max_supercell ** 3
        for i, c in enumerate(spec.counts or ()):
            if c >= n_sites:
                raise InputError(f"{source}: counts[{i}] = {c}: too many dopants for {n_sites} sites "
                                 f"(max_supercell = {spec.max_supercell}); allowed: 1-{n_sites - 1}")
    _check_arrangement_classes(spec, source)


def _check_arrangement_classes(spec: CampaignSpec, source: str) -> None:
    """``arrangements: {classes: [ids]}``: every id must exist for each (supercell, count)."""
    strategy = spec.arrangement_strategy
    if strategy.kind != "classes":
        return
    from sianode.structures import choose_cell, pure_supercell
    from sianode.structures.strategies import arrangement_classes

    cells = tuple(range(1, spec.max_supercell + 1))
    wanted = ({(int(choose_cell(p, cells)[0]), int(choose_cell(p, cells)[1])) for p in spec.percents}
              if spec.percents is not None else {(spec.max_supercell, int(c)) for c in spec.counts or ()})
    for sc, k in sorted(wanted):
        n = len(arrangement_classes(pure_supercell(sc), k, strategy))
        bad = [i for i in strategy.classes if i >= n]
        if bad:
            raise InputError(f"{source}: arrangements.classes = {list(strategy.classes)}: class id {bad[0]} does not "
                             f"exist for {k} dopant{'s' if k > 1 else ''} in {8 * sc ** 3} sites; "
                             f"allowed: class ids 0-{n - 1} (`sianode structures arrangements` lists them)")


def _check_dopant(source: str, i: int, dopant: str, calc: CalculatorSpec) -> None:
    from ase.data import chemical_symbols

    allowed = "B, P, S, Ge or any element symbol the calculator supports (not Si, not a noble gas)"
    if dopant not in chemical_symbols[1:]:
        raise InputError(f"{source}: dopants[{i}] = {dopant!r} is not an element; allowed: {allowed}")
    from sianode.structures import validate_element

    try:
        validate_element(dopant)
    except InputError as exc:
        raise InputError(f"{source}: dopants[{i}] = {dopant!r}: {exc}; allowed: {allowed}") from None
    from ase import Atoms

    try:
        calc.check_elements(Atoms([dopant, "Si", "Li"]))
    except InputError as exc:
        raise InputError(f"{source}: dopants[{i}] = {dopant!r}: {exc}") from None


# ------------------------------------------------------------------ example
EXAMPLE_SPEC = """\
# sianode campaign: dopants x atom % x Li sites, run with `sianode run campaign.yaml`.
# Every key is optional except name and dopants; shown values are the defaults.

name: demo                      # letters, digits, _ . -  (names the campaign in the database)
dopants: [B, P, S, Ge]          # substitutional dopants (S: substitutional only)
percents: [1.5, 3.1, 6.25]      # atom %; met as 1/64, 2/64, 4/64 in the 64-site cell
# counts: [1, 2]                # instead of percents: dopants per max_supercell cell
max_supercell: 2                # supercells n = 1..max_supercell (8 n^3 Si sites)
include_pure: true              # pure-Si hosts too (dopant Si, percent 0)
arrangements: dispersed         # dopants farthest apart; compact, {classes: [0, 3]},
                                # {ensemble: {max: 4, temperature_K: inf}}, sqs
sites: all                      # every symmetry-distinct T site; or {nearest: 3}
hops: all                       # every hop path: one NEB per H-site class (10 for 1 dopant
                                # in 64 sites); near, far, none, {within: 4.0} (A), or a list

calculator:
  name: sevennet-mf0            # `sianode calculators list`; lj-test is NOT physics
  parameters: {}

relax:                          # hosts built at the calculator's own a (pure 8-atom cell relaxed)
  fmax: 0.05                    # eV/A
  steps: 300
  host_cell: true               # relax each host's cell too (FrechetCellFilter, not held cubic);
                                # host + Li and NEBs then at that host cell, fixed (dilute Li)
neb:                            # climbing-image NEB, improved tangent, IDPP path
  n_images: 5
  fmax: 0.05                    # eV/A
  steps: 500
  climb: true
reference:                      # bcc Li, mu_Li
  fmax: 0.01                    # eV/A

threads: 1                      # torch/OpenMP threads per worker (`sianode run --workers N`)
fireworks: auto                 # calculation (one Firework each), host (one per host: campaigns
                                # of thousands), auto (host from 64 hosts on)
"""
