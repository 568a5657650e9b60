"""Result documents as pydantic models: one per kind and role, labels as their own model.

The writers (:mod:`sianode.workflows.steps`, :mod:`sianode.analysis.persist`) build these
models and store :meth:`ResultDocument.to_document`; the readers parse what they find with
:func:`parse_document`. Every quantity has one spelling, with its unit in the name
(``energy_eV``, ``fmax_eV_A``, ``mu_Li_eV``, ``a_A``); :data:`LEGACY_OUTPUT_NAMES` lists
the other spellings older documents may carry, which ``sianode db migrate``
(:mod:`sianode.store.migrate`) turns into the canonical ones.

``schema_version``: :data:`SCHEMA_VERSION` (2) for documents written or migrated by this
release; a document without the field is version 1 (what sianode 0.1 wrote). Version-1
documents parse (unknown fields are kept as extras) and ``to_document()`` gives back exactly
the dict that was parsed; a version-2 document must not carry a legacy spelling.

=============  ===============  ======================  =============================
kind           labels.role      model                   output
=============  ===============  ======================  =============================
``relax``      ``lattice``      :class:`LatticeDocument`    :class:`RelaxOutput`
``relax``      ``host``         :class:`HostDocument`       :class:`RelaxOutput`
``relax``      ``insertion``    :class:`InsertionDocument`  :class:`RelaxOutput`
``relax``      ``hop_end``      :class:`HopEndDocument`     :class:`RelaxOutput` (legacy)
``neb``        ``hop``          :class:`HopDocument`        :class:`NEBOutput`
``reference``  ``li_metal``     :class:`ReferenceDocument`  :class:`ReferenceOutput`
``derived``    ``insertion_energy`` / ``barrier``  :class:`DerivedDocument`  :class:`DerivedOutput`
``alias``      --               :class:`AliasDocument`      -- (left by a re-key)
=============  ===============  ======================  =============================
"""

from __future__ import annotations

from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sianode.errors import InputError
from sianode.store import schema

#: written by this release; a document without ``schema_version`` is version 1
SCHEMA_VERSION = schema.SCHEMA_VERSION
#: kind and status of the document a re-key leaves at an old key
ALIAS, SUPERSEDED = schema.ALIAS, schema.SUPERSEDED

#: other spellings of output quantities found in version-1 documents: legacy -> canonical
LEGACY_OUTPUT_NAMES: dict[str, dict[str, str]] = {
    schema.REFERENCE: {"mu_li_eV": "mu_Li_eV", "energy_per_atom_eV": "mu_Li_eV", "lattice_constant_A": "a_A",
                       "final_structure": "structure"},
    schema.RELAX: {"final_fmax": "fmax_eV_A", "fmax": "fmax_eV_A", "final_structure": "structure",
                   "atoms": "structure", "final_atoms": "structure"},
    schema.SINGLE_POINT: {"fmax": "fmax_eV_A", "final_structure": "structure"},
    schema.NEB: {"energies": "energies_eV"},
}
#: other spellings of labels in version-1 documents, by role: legacy -> canonical
LEGACY_LABEL_NAMES: dict[str, dict[str, str]] = {
    schema.ROLE_HOP: {"multiplicity": "hop_multiplicity"},
}


class _Model(BaseModel):
    """Fields not declared here are kept (``extra="allow"``) and written back unchanged."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_document(self) -> dict[str, Any]:
        """The dict stored in MongoDB: exactly the fields that were given (parsed or set)."""
        return self.model_dump(by_alias=True, exclude_unset=True)


# ------------------------------------------------------------------ parts
class Structure(_Model):
    """A periodic structure (:func:`sianode.structures.serialize.atoms_to_dict`)."""

    symbols: list[str] = Field(description="chemical symbol of each atom")
    positions: list[list[float]] = Field(description="Cartesian positions, Angstrom, shape (n, 3)")
    cell: list[list[float]] = Field(description="lattice vectors as rows, Angstrom, shape (3, 3)")
    pbc: list[bool] | bool | None = Field(None, description="periodic along each lattice vector")


class CalculatorIdentity(_Model):
    """What defines a calculator's numbers (hashed into content keys); no device, threads or host."""

    name: str | None = Field(None, description="registry name, e.g. 'sevennet'")
    model: str | None = Field(None, description="model name or file")
    weights_sha256: str | None = Field(None, description="SHA-256 of the weights file (None: none / absent)")
    parameters: dict[str, Any] = Field(default_factory=dict, description="calculator parameters")


class CalculatorProvenance(_Model):
    """Where a calculation document's numbers came from
    (:meth:`sianode.calculators.CalculatorSpec.provenance`)."""

    calculator: str | None = Field(None, description="registry name, e.g. 'sevennet'")
    what: str | None = Field(None, description="one-line description of the calculator")
    package: str | None = Field(None, description="Python package that computes")
    package_version: str | None = Field(None, description="its version")
    model: str | None = Field(None, description="model name or file")
    weights_file: str | None = Field(None, description="path of the weights file")
    weights_present: bool | None = Field(None, description="whether the weights file was found")
    weights_sha256: str | None = Field(None, description="SHA-256 of the weights file")
    parameters: dict[str, Any] = Field(default_factory=dict, description="calculator parameters")
    device: str | None = Field(None, description="'cpu' or 'cuda' (does not change the numbers)")
    threads: int | None = Field(None, description="CPU threads (does not change the numbers)")
    not_physics: bool | None = Field(None, description="a test potential, not for physics")

    def identity(self) -> CalculatorIdentity:
        """The identity hashed into the content key when the calculation was keyed."""
        return CalculatorIdentity(name=self.calculator, model=self.model, weights_sha256=self.weights_sha256,
                                  parameters=dict(self.parameters))


class Timings(_Model):
    created: float | None = Field(None, description="claim inserted, Unix time, s")
    started: float | None = Field(None, description="calculation started (last attempt), Unix time, s")
    finished: float | None = Field(None, description="result recorded, Unix time, s")
    wall_s: float | None = Field(None, description="wall time of the calculation, s")


class Lease(_Model):
    owner: str = Field(description="'host:pid:token' of the worker holding the claim")
    expires: float = Field(description="Unix time, s, after which another worker may take over")


# ----------------------------------------------------------------- labels
class Labels(_Model):
    """Campaign labels, plain values so they can be indexed (:mod:`sianode.store.schema`)."""

    role: str | None = Field(None, description="what the calculation is for in a campaign")
    campaign: str | None = Field(None, description="the campaign that first asked for it")
    campaigns: list[str] | None = Field(None, description="every campaign that uses it")
    also: list[dict[str, Any]] | None = Field(None, description="labels of the other roles it serves")


class HostLabels(Labels):
    """Labels of a host and of everything computed in it (``dopant = "Si"`` is pure silicon)."""

    dopant: str | None = Field(None, description="dopant element, 'Si' for pure")
    percent: float | None = Field(None, description="dopant concentration, atom %")
    requested_percent: float | None = Field(None, description="concentration the campaign asked for, atom %")
    supercell: list[int] | int | None = Field(None, description="supercell repetitions of the 8-atom cell")
    n_dopants: int | None = Field(None, description="dopant atoms in the supercell")
    arrangement: int | str | None = Field(None, description="dopant arrangement class")
    arrangement_multiplicity: int | None = Field(None, description="arrangements in the class")
    lattice_key: str | None = Field(None, description="key of the lattice relaxation the host was built from")
    lattice_constant_A: float | None = Field(None, description="lattice constant the host was built at, A")
    host_cell: bool | None = Field(None, description="host relaxed with its cell")
    host_key: str | None = Field(None, description="key of the relaxed host (Li documents)")


class LatticeLabels(HostLabels):
    role: Literal["lattice"] = schema.ROLE_LATTICE


class InsertionLabels(HostLabels):
    role: Literal["insertion"] = schema.ROLE_INSERTION
    site: str | None = Field(None, description="Li site class label, e.g. 'T1'")
    site_kind: str | None = Field(None, description="'T' or 'H'")
    site_multiplicity: int | None = Field(None, description="sites in the class")
    distance_to_dopant_A: float | None = Field(None, description="site to nearest dopant, A")


class HopEndLabels(HostLabels):
    """Labels of an end point of an ordered hop (version-1 campaigns)."""

    role: Literal["hop_end"] = schema.ROLE_HOP_END
    hop: str | None = Field(None, description="hop class label")
    end: Literal["start", "end"] | None = Field(None, description="which end point")


class HopLabels(HostLabels):
    role: Literal["hop"] = schema.ROLE_HOP
    hop: str | None = Field(None, description="hop class label, 'hop1', ...")
    h_site: str | None = Field(None, description="H class label of the saddle")
    hop_multiplicity: int | None = Field(None, description="hops in the class")
    start_site: str | None = Field(None, description="T class label of the start")
    end_site: str | None = Field(None, description="T class label of the end")
    distance_to_dopant_A: float | None = Field(None, description="saddle to nearest dopant, A")
    selection: str | Mapping[str, Any] | None = Field(None, description="'near', 'far', 'all' or {'within': R}")
    start_key: str | None = Field(None, description="key of the start point's relaxation")
    end_key: str | None = Field(None, description="key of the end point's relaxation")
    unordered: bool | None = Field(None, description="True: one NEB per unordered hop class; False: an "
                                   "ordered hop of a version-1 campaign")


class ReferenceLabels(Labels):
    role: Literal["li_metal"] = schema.ROLE_LI_METAL


class DerivedLabels(HostLabels):
    role: Literal["insertion_energy", "barrier"]
    source_key: str | None = Field(None, description="key of the calculation the value belongs to")
    distance_to_dopant_A: float | None = Field(None, description="site or saddle to nearest dopant, A")
    site: str | None = None
    site_kind: str | None = None
    site_multiplicity: int | None = None
    hop: str | None = None
    hop_multiplicity: int | None = None
    selection: str | Mapping[str, Any] | None = None


# ----------------------------------------------------------------- inputs
class RelaxInput(_Model):
    structure: Structure | None = Field(None, description="start structure")
    parameters: dict[str, Any] = Field(default_factory=dict, description="operation parameters (content key)")


class NEBInput(_Model):
    structures: list[Structure] = Field(default_factory=list, description="relaxed start and end points")
    parameters: dict[str, Any] = Field(default_factory=dict, description="operation parameters (content key)")


class ReferenceInput(_Model):
    structure: None = None
    parameters: dict[str, Any] = Field(default_factory=dict, description="operation parameters (content key)")


# ---------------------------------------------------------------- outputs
class SinglePointOutput(_Model):
    structure: Structure | None = None
    energy_eV: float | None = Field(None, description="total energy, eV")
    forces_eV_A: list[list[float]] | None = Field(None, description="forces, eV/A, shape (n, 3)")
    stress_eV_A3: list[float] | None = Field(None, description="stress, Voigt, eV/A^3 (None: no 3D cell)")
    fmax_eV_A: float | None = Field(None, description="largest atomic force, eV/A")
    n_force_calls: int | None = Field(None, description="calculator evaluations")
    wall_s: float | None = Field(None, description="wall time, s")
    calculator: dict[str, Any] | None = Field(None, description="provenance of the calculator")


class RelaxOutput(SinglePointOutput):
    structure: Structure | None = Field(None, description="relaxed structure")
    converged: bool | None = Field(None, description="fmax reached within the steps")
    steps: int | None = Field(None, description="optimizer steps taken")
    fmax_eV_A: float | None = Field(None, description="largest force at the end (with the cell filter), eV/A")
    fmax_target_eV_A: float | None = Field(None, description="force criterion, eV/A")
    cell_relaxed: bool | None = Field(None, description="the cell was relaxed too")
    optimizer: str | None = Field(None, description="ASE optimizer")


class NEBOutput(_Model):
    status: Literal["ok", "not_converged", "maximum_at_endpoint"] | None = None
    barrier_eV: float | None = Field(None, description="saddle minus start, eV (only when status 'ok')")
    energies_eV: list[float] | None = Field(None, description="absolute image energies incl. end points, eV")
    saddle_index: int | None = Field(None, description="index of the highest image")
    saddle_structure: Structure | None = None
    start_structure: Structure | None = None
    end_structure: Structure | None = None
    converged: bool | None = None
    steps: int | None = Field(None, description="optimizer steps over both phases")
    n_force_calls: int | None = Field(None, description="calculator evaluations, end points included")
    n_images: int | None = Field(None, description="moving images")
    fmax_eV_A: float | None = Field(None, description="largest NEB force on a moving image, eV/A")
    fmax_saddle_eV_A: float | None = Field(None, description="NEB force on the highest image, eV/A")
    fmax_target_eV_A: float | None = Field(None, description="force criterion, eV/A")
    reaction_energy_eV: float | None = Field(None, description="end minus start, eV")
    attempt_frequency_Hz: float | None = Field(None, description="hop attempt frequency, Hz")
    wall_s: float | None = Field(None, description="wall time, s")
    calculator: dict[str, Any] | None = None
    settings: dict[str, Any] | None = Field(None, description="band settings as run (units in the names)")


class ReferenceOutput(_Model):
    mu_Li_eV: float | None = Field(None, description="Li chemical potential: bcc Li energy per atom, eV")
    a_A: float | None = Field(None, description="relaxed bcc Li lattice constant, A")
    structure: Structure | None = None
    energy_eV: float | None = Field(None, description="total energy of the cell, eV")
    n_atoms: int | None = None
    converged: bool | None = None
    steps: int | None = None
    n_force_calls: int | None = None
    wall_s: float | None = Field(None, description="wall time, s")
    calculator: dict[str, Any] | None = None


class DerivedOutput(_Model):
    e_ins_eV: float | None = Field(None, description="insertion energy vs bcc Li, eV")
    energy_eV: float | None = Field(None, description="total energy of host + Li, eV")
    barrier_eV: float | None = Field(None, description="forward barrier, eV")
    reverse_barrier_eV: float | None = Field(None, description="reverse barrier, eV")
    energies_eV: list[float] | None = Field(None, description="image energies relative to the start, eV")


# -------------------------------------------------------------- documents
class ResultDocument(_Model):
    """The envelope of every document in the ``calculations`` collection."""

    id: str = Field(alias="_id", description="content key (= key)")
    key: str = Field(description="content key: SHA-256 of kind, structures, calculator identity, parameters")
    kind: str = Field(description="what ran: relax, neb, reference, single_point, derived")
    status: str = Field(description="running, completed or failed")
    reason: str | None = Field(None, description="why it failed")
    traceback: str | None = Field(None, description="last 4000 characters of an unexpected error's traceback")
    input: dict[str, Any] | None = None
    calculator: CalculatorProvenance | None = None
    labels: Labels | None = None
    output: dict[str, Any] | None = None
    files: dict[str, Any] | None = Field(None, description="GridFS ids of arrays (trajectories), by name")
    timings: Timings | None = None
    host: str | None = Field(None, description="machine that claimed it")
    sianode_version: str | None = None
    attempts: int | None = Field(None, description="claims so far")
    lease: Lease | None = None
    schema_version: int = Field(1, description="document layout version; absent means 1")
    previous_keys: list[str] | None = Field(None, description="keys this document was stored under before "
                                            "a key definition changed (aliases point here)")
    migration: dict[str, Any] | None = Field(None, description="what `sianode db migrate` changed")

    @model_validator(mode="after")
    def _one_spelling(self) -> "ResultDocument":
        if self.schema_version >= 2:
            legacy = set(LEGACY_OUTPUT_NAMES.get(self.kind, {})) & set(_dump(self.output))
            role = (self.labels.role if self.labels is not None else None) or ""
            legacy |= set(LEGACY_LABEL_NAMES.get(role, {})) & set(_dump(self.labels))
            if legacy:
                raise ValueError(f"schema_version {self.schema_version} document {self.key[:12]} carries legacy "
                                 f"field(s) {sorted(legacy)}; run `sianode db migrate`")
        return self


def _dump(part: Any) -> dict[str, Any]:
    if part is None:
        return {}
    return part.to_document() if isinstance(part, BaseModel) else dict(part)


class RelaxDocument(ResultDocument):
    kind: Literal["relax"] = schema.RELAX
    input: RelaxInput | None = None
    output: RelaxOutput | None = None


class LatticeDocument(RelaxDocument):
    """The pure 8-atom Si cell relaxed with its cell: the calculator's lattice constant."""

    labels: LatticeLabels


class HostDocument(RelaxDocument):
    labels: HostLabels


class InsertionDocument(RelaxDocument):
    labels: InsertionLabels


class HopEndDocument(RelaxDocument):
    """An end point of an ordered hop (version-1 campaigns; unordered hops reuse insertions)."""

    labels: HopEndLabels


class SinglePointDocument(ResultDocument):
    kind: Literal["single_point"] = schema.SINGLE_POINT
    input: RelaxInput | None = None
    output: SinglePointOutput | None = None


class NEBDocument(ResultDocument):
    kind: Literal["neb"] = schema.NEB
    input: NEBInput | None = None
    output: NEBOutput | None = None


class HopDocument(NEBDocument):
    labels: HopLabels


class ReferenceDocument(ResultDocument):
    kind: Literal["reference"] = schema.REFERENCE
    input: ReferenceInput | None = None
    labels: ReferenceLabels
    output: ReferenceOutput | None = None


class DerivedDocument(ResultDocument):
    """A value derived from calculation documents; its key is
    :func:`sianode.store.hashing.derived_key`."""

    kind: Literal["derived"] = schema.DERIVED
    calculator: CalculatorIdentity | None = None  # type: ignore[assignment]
    labels: DerivedLabels
    sources: list[str] = Field(description="keys of the calculation documents it was derived from")
    output: DerivedOutput | None = None


class AliasDocument(_Model):
    """Left at a document's old key when a key definition changed: the content lives at
    ``superseded_by`` (and, when that key already held a result, here under ``original``)."""

    id: str = Field(alias="_id")
    key: str
    kind: Literal["alias"] = ALIAS
    status: Literal["superseded"] = SUPERSEDED
    superseded_by: str = Field(description="the key the document is stored under now")
    alias_of: dict[str, Any] = Field(default_factory=dict, description="kind and role of the moved document")
    original: dict[str, Any] | None = Field(None, description="the old document, when the new key held another")
    schema_version: int = SCHEMA_VERSION


#: (kind, labels.role) -> model; a kind alone is the fallback of its roles
MODELS: dict[tuple[str, str | None], type[_Model]] = {
    (schema.RELAX, schema.ROLE_LATTICE): LatticeDocument,
    (schema.RELAX, schema.ROLE_HOST): HostDocument,
    (schema.RELAX, schema.ROLE_INSERTION): InsertionDocument,
    (schema.RELAX, schema.ROLE_HOP_END): HopEndDocument,
    (schema.RELAX, None): RelaxDocument,
    (schema.NEB, schema.ROLE_HOP): HopDocument,
    (schema.NEB, None): NEBDocument,
    (schema.REFERENCE, schema.ROLE_LI_METAL): ReferenceDocument,
    (schema.REFERENCE, None): ReferenceDocument,
    (schema.SINGLE_POINT, None): SinglePointDocument,
    (schema.DERIVED, schema.ROLE_INSERTION_ENERGY): DerivedDocument,
    (schema.DERIVED, schema.ROLE_BARRIER): DerivedDocument,
    (ALIAS, None): AliasDocument,
}


def model_for(doc: Mapping[str, Any]) -> type[_Model]:
    """The model class of a stored document (by ``kind`` and ``labels.role``)."""
    kind = doc.get("kind")
    role = (doc.get("labels") or {}).get("role") if isinstance(doc.get("labels"), Mapping) else None
    return MODELS.get((str(kind), role)) or MODELS.get((str(kind), None)) or ResultDocument


def parse_document(doc: Mapping[str, Any]) -> Any:
    """The typed model of a stored document; ``parse_document(d).to_document() == d``.

    Raises
    ------
    InputError
        The document does not fit its model (the message names its key and the fields).
    """
    from pydantic import ValidationError

    cls = model_for(doc)
    try:
        return cls.model_validate(dict(doc))
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise InputError(f"document {str(doc.get('_id'))[:12]} ({doc.get('kind')}/"
                         f"{(doc.get('labels') or {}).get('role')}) does not fit {cls.__name__}: {fields}") from None


#: the output model of each kind of calculation (what :func:`build_output` validates)
OUTPUT_MODELS: dict[str, type[_Model]] = {
    schema.RELAX: RelaxOutput, schema.SINGLE_POINT: SinglePointOutput, schema.NEB: NEBOutput,
    schema.REFERENCE: ReferenceOutput, schema.DERIVED: DerivedOutput,
}


def build_output(kind: str, output: Mapping[str, Any]) -> dict[str, Any]:
    """The ``output`` a writer stores for a calculation of ``kind``, built through its model.

    Raises
    ------
    InputError
        ``output`` carries a legacy spelling (:data:`LEGACY_OUTPUT_NAMES`) or a field of the
        wrong type: a bug of the writer, named with the field.
    """
    from pydantic import ValidationError

    legacy = sorted(set(LEGACY_OUTPUT_NAMES.get(kind, {})) & set(output))
    if legacy:
        raise InputError(f"{kind} output carries legacy field(s) {legacy}; write "
                         f"{sorted(LEGACY_OUTPUT_NAMES[kind][n] for n in legacy)} instead")
    cls = OUTPUT_MODELS.get(kind)
    if cls is None:
        return dict(output)
    try:
        return cls.model_validate(dict(output)).to_document()
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise InputError(f"{kind} output does not fit {cls.__name__}: {fields}") from None


def build_meta(kind: str, *, labels: Mapping[str, Any], calculator: Mapping[str, Any],
               input: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a writer stores with the claim of a new calculation: ``kind``, ``input``,
    ``calculator`` (provenance), ``labels`` and ``schema_version`` (:data:`SCHEMA_VERSION`),
    checked against the document's model (:func:`parse_document`) before anything is written.

    Raises
    ------
    InputError
        The labels or input do not fit the model of ``kind`` and ``labels.role``.
    """
    meta: dict[str, Any] = {"kind": kind, "labels": dict(labels), "calculator": dict(calculator),
                            "schema_version": SCHEMA_VERSION}
    if input is not None:
        meta["input"] = dict(input)
    parse_document({**meta, "_id": "new", "key": "new", "status": schema.RUNNING})
    return meta


def build_derived(key: str, *, labels: Mapping[str, Any], calculator: Mapping[str, Any], sources: list[str],
                  output: Mapping[str, Any]) -> dict[str, Any]:
    """A complete ``derived`` document (:class:`DerivedDocument`, :data:`SCHEMA_VERSION`) under ``key``."""
    doc = {"_id": key, "key": key, "kind": schema.DERIVED, "status": schema.COMPLETED, "reason": None,
           "labels": dict(labels), "calculator": dict(calculator), "sources": list(sources),
           "output": build_output(schema.DERIVED, output), "schema_version": SCHEMA_VERSION}
    return parse_document(doc).to_document()


def calculator_identity(calculator: Mapping[str, Any] | None) -> dict[str, Any]:
    """The calculator identity hashed into content keys, from a stored ``calculator`` block
    (a provenance record of a calculation, or the identity of a derived document)."""
    calc = dict(calculator or {})
    if "name" in calc:
        return CalculatorIdentity.model_validate(calc).model_dump(include={"name", "model", "weights_sha256",
                                                                            "parameters"})
    return CalculatorProvenance.model_validate(calc).identity().model_dump()
