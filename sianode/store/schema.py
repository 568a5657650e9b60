"""The vocabulary of result documents, shared by the writers (workflows) and the
readers (analysis, continuum) so neither has to import the other.

Every calculation document has ``kind`` (what ran) and ``labels.role`` (what it is
for in a campaign). Labels are plain values so they can be indexed and queried. ``labels.campaign`` is
the campaign that first asked for a calculation, ``labels.campaigns`` every campaign
that uses it (a calculation shared by campaigns is computed once).

=============  ==============  ==========================================================
kind           labels.role     labels (besides ``campaign``)
=============  ==============  ==========================================================
``reference``  ``li_metal``    -- (bcc Li; output ``mu_Li_eV``, ``a_A``)
``relax``      ``lattice``     dopant ``Si``: the calculator's own cubic cell (cell relaxed)
``relax``      ``host``        dopant, percent, supercell, n_dopants, arrangement,
                               arrangement_multiplicity
``relax``      ``insertion``   the host's labels + site, site_kind, site_multiplicity,
                               distance_to_dopant_A, host_key
``relax``      ``hop_end``     the host's labels + hop, end ("start"/"end"), host_key
``neb``        ``hop``         the host's labels + hop, hop_multiplicity,
                               distance_to_dopant_A, selection ("near"/"far"/"all"),
                               host_key, start_key, end_key
``neb``        ``hop``         unordered hop classes (version 2 campaigns): the host's
                               labels + hop, h_site, hop_multiplicity, start_site, end_site,
                               distance_to_dopant_A, selection, host_key, start_key,
                               end_key, ``unordered: true`` (``false``: an ordered hop of a
                               version-1 campaign, set by ``sianode db migrate``)
``derived``    ``insertion_energy`` / ``barrier`` -- derived values with ``sources``
``alias``      --              left at an old key by a re-key: ``superseded_by`` names the
                               key the document lives under now
=============  ==============  ==========================================================

Pure silicon is ``dopant = "Si"``, ``percent = 0.0``. Energies are in eV
(``energy_eV``), lengths in Angstrom, as everywhere inside sianode.

The typed form of every document, with one spelling per quantity, is
:mod:`sianode.store.documents`; ``schema_version`` is :data:`SCHEMA_VERSION` for documents
written or migrated by this release (absent: version 1, upgraded by ``sianode db migrate``).
"""

from __future__ import annotations

# kinds
SINGLE_POINT = "single_point"
RELAX = "relax"
NEB = "neb"
REFERENCE = "reference"
DERIVED = "derived"
KINDS = (SINGLE_POINT, RELAX, NEB, REFERENCE, DERIVED)
#: kind and status of the document a re-key leaves at an old key
ALIAS = "alias"
SUPERSEDED = "superseded"

#: document layout written by this release; a document without ``schema_version`` is version 1
SCHEMA_VERSION = 2

# statuses (also :data:`sianode.store.results.RUNNING` ...)
RUNNING, COMPLETED, FAILED = "running", "completed", "failed"

# roles
ROLE_LI_METAL = "li_metal"
ROLE_LATTICE = "lattice"
ROLE_HOST = "host"
ROLE_INSERTION = "insertion"
ROLE_HOP_END = "hop_end"
ROLE_HOP = "hop"
ROLE_INSERTION_ENERGY = "insertion_energy"
ROLE_BARRIER = "barrier"

#: label value of undoped silicon
PURE = "Si"
