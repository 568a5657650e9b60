"""FireWorks' LaunchPad on sianode's database, and the FireWorks settings of sianode's processes.

Shared by :mod:`sianode.workflows.run` (the driver) and :mod:`sianode.workflows.worker` (the
worker processes), so neither imports the other.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sianode.workflows.flows import META_CAMPAIGN

#: seconds a worker waits for a workflow lock before taking it over (see worker's docstring)
WFLOCK_WAIT_S = 60


def fireworks_settings(ping_s: float | None = None, wflock_wait_s: float = WFLOCK_WAIT_S) -> None:
    """FireWorks settings of sianode's processes (FireWorks reads them from module globals).

    * ``rocket.PING_TIME_SECS``: how often a running Firework pings (``ping_s``);
    * ``WFLock``: wait at most ``wflock_wait_s`` for a workflow lock, then take it over
      (its defaults are bound when FireWorks is imported, hence ``__defaults__``).
    """
    import fireworks.core.launchpad as launchpad
    import fireworks.core.rocket as rocket

    if ping_s is not None:
        rocket.PING_TIME_SECS = ping_s
    launchpad.WFLock.__init__.__defaults__ = (wflock_wait_s, True)


def uri_with_database(uri: str, database: str) -> str:
    """``uri`` with ``database`` as its path (keeps credentials and options)."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def campaign_launchpad(db: str | None = None) -> tuple[Any, Any]:
    """The FireWorks ``LaunchPad`` on sianode's database, and its ``DatabaseTarget``.

    Starts the embedded server when no database is configured. Every wait is bounded:
    server selection 10 s, a socket read 120 s, a workflow lock 60 s.
    """
    from fireworks import LaunchPad

    from sianode.store import connect, database_target
    fireworks_settings()
    target = database_target(db)
    connect(target).client.close()  # one clear line when unreachable
    uri = uri_with_database(target.uri, target.database)
    lp = LaunchPad(host=uri, uri_mode=True, name=target.database, strm_lvl="WARNING",
                   mongoclient_kwargs={"serverSelectionTimeoutMS": 10000, "socketTimeoutMS": 120000})
    initialize_launchpad(lp)
    atomic_launchpad(lp)
    return lp, target


#: LaunchPad collections FireWorks calls findAndModify on: several times per Firework, and its id
#: counters (``fw_id_assigner``: the server's own would hand out an id twice under concurrency)
ATOMIC_COLLECTIONS = ("fireworks", "workflows", "launches", "fw_id_assigner")


def atomic_launchpad(lp: Any) -> Any:
    """``lp`` with its ``fireworks``, ``workflows``, ``launches`` and ``fw_id_assigner`` collections wrapped in
    :class:`~sianode.store.atomic.AtomicCollection` when the server needs it (SecantusDB: its
    findAndModify scans the collection, see :mod:`sianode.store.atomic`); returns ``lp``."""
    from sianode.store.atomic import atomic

    for name in ATOMIC_COLLECTIONS:
        setattr(lp, name, atomic(getattr(lp, name)))
    return lp


def initialize_launchpad(lp: Any) -> bool:
    """Create FireWorks' id counters in a database that has none (what ``lpad reset`` would
    do first), without deleting anything, and sianode's indexes; True when it initialised."""
    fresh = lp.fw_id_assigner.find_one({}) is None
    if fresh:
        # the same document LaunchPad._restart_ids writes; _id -1 makes concurrent first runs agree
        lp.fw_id_assigner.update_one({"_id": -1}, {"$setOnInsert": {"next_fw_id": 1, "next_launch_id": 1}},
                                     upsert=True)
        lp.tuneup(bkground=False)
    ensure_indexes(lp)
    return fresh


def ensure_indexes(lp: Any) -> None:
    """Indexes of sianode's own queries (idempotent): workflows by campaign.

    Not on the Fireworks' ``spec._sianode_campaign``: the embedded server serves a query from
    the index of its first indexed field, and FireWorks' own worker queries start with the
    FWorker's query (the campaign), so such an index would make every ``run_exists`` a scan of
    the whole campaign instead of its READY Fireworks (measured: 370 ms vs 80 ms at 3,000).
    """
    lp.workflows.create_index(f"metadata.{META_CAMPAIGN}")
