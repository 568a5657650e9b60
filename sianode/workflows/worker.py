"""One FireWorks worker process: ``python -m sianode.workflows.worker``.

``sianode run`` starts N of these; a SLURM/PBS job script written from
``my_qadapter.yaml`` runs one. Each worker pins torch/OpenMP to ``--threads``, pings
FireWorks every ``--ping-s`` seconds (FireWorks' own default is one hour, too slow to
notice a killed job), and runs Fireworks of its campaign until none is ready or waiting
(FireWorks' ``rapidfire`` semantics). Its FWorker name, ``sianode-worker:<host>:<pid>``,
lets ``sianode run`` see at once that a worker on this host died, and rerun its Fireworks.

Checkout that stays cheap with thousands of Fireworks
-----------------------------------------------------
FireWorks' ``rapidfire`` asks the database for "the READY Firework of highest priority"
three times per Firework, with a query whose top level is an ``$or`` (the ``_fworker``
check of ``FWorker.query``). The embedded SecantusDB plans no index for a top-level
``$or``, so each of those is a scan of every Firework in the database, and a campaign of
N Fireworks costs O(N^2). This worker instead

* uses :class:`CampaignFWorker`, whose query says the same with
  ``{"spec._fworker": {"$in": [None, name]}}`` (no top-level ``$or``);
* lists the READY Fireworks of its campaign once (ids and priorities only), and checks
  them out one by one with a query led by ``fw_id`` (unique index: one lookup). FireWorks'
  own ``checkout_fw`` does the atomic READY -> RESERVED -> RUNNING step, so two workers
  never run one Firework; a Firework another worker took first is skipped. The list is
  read again when it is used up or older than ``REFRESH_S``.

FireWorks' workflow lock (``WFLock``) waits 300 s for a lock left by a process that died
while holding it and then gives up silently (the workflow is not refreshed and the
campaign stalls); workers wait at most ``WFLOCK_WAIT_S`` and then take the lock over.

GPU nodes
---------
``--device cuda`` (written into ``my_qadapter.yaml`` by ``sianode init --queue ... --gpus N``)
sets ``$SIANODE_DEVICE`` and the FWorker's ``env.sianode_device``, which the FireTasks see
as ``fw_spec["_fw_env"]["sianode_device"]``. The device is a run-time choice, like threads:
it is not part of a calculation's content key.

Database: ``--launchpad my_launchpad.yaml``, else ``$SIANODE_DB_URI`` /
``$SIANODE_LAUNCHPAD``, else the embedded server.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import socket
import sys
import time
from typing import Any

from sianode.workflows.launchpad import WFLOCK_WAIT_S, fireworks_settings  # noqa: F401  (re-exported)
from sianode.workflows.recovery import WORKER_PREFIX  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

DEFAULT_PING_S = 30
DEFAULT_SLEEP_S = 1
#: the worker's list of READY Fireworks is read again after this many seconds
REFRESH_S = 60.0
#: FireWorks' WFLock: wait this long for a workflow lock, then take it over (FireWorks: 300 s, give up)
DEVICES = ("auto", "cpu", "cuda")


def worker_name(pid: int | None = None) -> str:
    """FWorker name of a sianode worker process on this host."""
    return f"{WORKER_PREFIX}:{socket.gethostname()}:{pid or os.getpid()}"


def pin_threads(threads: int) -> None:
    """Set OpenMP/MKL/torch thread counts of this process to ``threads``."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def campaign_fworker_class() -> type:
    """:class:`CampaignFWorker` (defined on first use: importing FireWorks is slow)."""
    global _FWORKER_CLASS
    if _FWORKER_CLASS is None:
        from fireworks import FWorker

        class CampaignFWorker(FWorker):
            """An FWorker whose query has no top-level ``$or`` (see the module docstring).

            ``{"spec._fworker": {"$in": [None, name]}}`` matches a Firework whose ``_fworker``
            is missing, null or this worker's name: FireWorks' three ``$or`` branches.
            """

            @property
            def query(self) -> dict[str, Any]:
                q = dict(self._query)
                if "$or" in q or "spec._fworker" in q:  # a user query: FireWorks' own logic
                    return FWorker.query.fget(self)
                q["spec._fworker"] = {"$in": [None, self.name]}
                if self.category and isinstance(self.category, str):
                    q["spec._category"] = {"$exists": False} if self.category == "__none__" else self.category
                elif self.category:
                    q["spec._category"] = {"$in": list(self.category)}
                return q

        _FWORKER_CLASS = CampaignFWorker
    return _FWORKER_CLASS


_FWORKER_CLASS: type | None = None


def make_fworker(fworker_file: str | None, campaign: str | None, device: str | None = None) -> Any:
    """The worker's :class:`CampaignFWorker`: ``my_fworker.yaml`` settings, this process's name,
    restricted to ``campaign``, with ``env.sianode_device`` when ``device`` is given."""
    from fireworks import FWorker

    base = FWorker.from_file(fworker_file) if fworker_file else FWorker()
    fworker = campaign_fworker_class()(name=worker_name(), category=base.category, query=dict(base._query),
                                       env=dict(base.env))
    if campaign:
        from sianode.workflows.flows import SPEC_CAMPAIGN

        fworker._query = {**fworker._query, f"spec.{SPEC_CAMPAIGN}": campaign}
    if device:
        fworker.env["sianode_device"] = device
    return fworker


def ready_fw_ids(lp: Any, fworker: Any, rng: random.Random | None = None) -> list[int]:
    """READY Fireworks this worker may run, highest ``_priority`` first.

    Within one priority the order is shuffled (seeded per worker) so that workers started
    together do not all reach for the same Firework.
    """
    # "state" first: the embedded server looks the query up in the index of its first indexed field
    docs = list(lp.fireworks.find({"state": "READY", **fworker.query}, {"fw_id": 1, "spec._priority": 1, "_id": 0}))
    rng = rng or random.Random(os.getpid())
    rng.shuffle(docs)
    docs.sort(key=lambda d: -float((d.get("spec") or {}).get("_priority") or 0))
    return [int(d["fw_id"]) for d in docs]


def launch_one(lp: Any, fworker: Any, fw_id: int, root: str, strm_lvl: str = "WARNING") -> bool:
    """Check out and run Firework ``fw_id`` in a new ``launcher_*`` folder of ``root``.

    Returns False (and leaves no folder) when another worker took it first.
    """
    from fireworks.core.rocket_launcher import launch_rocket
    from fireworks.utilities.fw_utilities import create_datestamp_dir, get_fw_logger

    base = fworker._query
    logger = get_fw_logger("rocket.launcher", l_dir=lp.get_logdir(), stream_level=strm_lvl)
    os.chdir(root)
    launcher_dir = create_datestamp_dir(root, logger, prefix="launcher_")
    os.chdir(launcher_dir)
    fworker._query = {"fw_id": fw_id, **base}  # fw_id first: the server looks it up in its unique index
    try:
        ran = launch_rocket(lp, fworker, strm_lvl=strm_lvl)
    finally:
        fworker._query = base
        os.chdir(root)
    if not ran and not os.listdir(launcher_dir):
        os.rmdir(launcher_dir)
    return bool(ran)


def run_fireworks(lp: Any, fworker: Any, launch_dir: str, *, sleep_s: float = DEFAULT_SLEEP_S, nlaunches: int = 0,
                  strm_lvl: str = "WARNING") -> int:
    """Run READY Fireworks until none is ready or waiting (or ``nlaunches`` ran); returns how many ran."""
    rng = random.Random(os.getpid())
    queue: list[int] = []
    read_at = 0.0
    ran = 0
    while True:
        if not queue or time.monotonic() - read_at > REFRESH_S:
            queue = ready_fw_ids(lp, fworker, rng)
            read_at = time.monotonic()
        if not queue:
            if not lp.future_run_exists(fworker):
                break
            time.sleep(sleep_s)
            continue
        if launch_one(lp, fworker, queue.pop(0), launch_dir, strm_lvl):
            ran += 1
            if nlaunches and ran >= nlaunches:
                break
    return ran


def run_worker(*, launchpad_file: str | None = None, fworker_file: str | None = None, campaign: str | None = None,
               threads: int = 1, ping_s: float = DEFAULT_PING_S, sleep_s: float = DEFAULT_SLEEP_S,
               launch_dir: str | None = None, nlaunches: int = 0, device: str | None = None) -> int:
    """Run Fireworks until none is left (see module docstring); returns how many ran."""
    pin_threads(threads)
    if device is not None and device not in DEVICES:
        from sianode.errors import InputError

        raise InputError(f"--device = {device!r} is not supported; allowed: {', '.join(DEVICES)}")
    if device:  # the FireTasks give it to ML calculators set to device: auto (tasks.task_calculator)
        os.environ["SIANODE_DEVICE"] = device
    from fireworks import LaunchPad

    fireworks_settings(ping_s)
    if launchpad_file:
        os.environ.setdefault("SIANODE_LAUNCHPAD", os.path.abspath(launchpad_file))
        from sianode.workflows.launchpad import atomic_launchpad

        lp = atomic_launchpad(LaunchPad.from_file(launchpad_file))
    else:
        from sianode.workflows.launchpad import campaign_launchpad

        lp, _ = campaign_launchpad(None)
    fworker = make_fworker(fworker_file, campaign, device)
    launch_dir = os.path.abspath(launch_dir or os.getcwd())
    os.makedirs(launch_dir, exist_ok=True)
    t0 = time.perf_counter()
    ran = run_fireworks(lp, fworker, launch_dir, sleep_s=sleep_s, nlaunches=nlaunches)
    log.info("%s: ran %d Firework(s) in %.0f s; nothing left to run", fworker.name, ran, time.perf_counter() - t0)
    return ran


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sianode.workflows.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--launchpad", help="my_launchpad.yaml (default: sianode's configured database)")
    parser.add_argument("--fworker", help="my_fworker.yaml")
    parser.add_argument("--campaign", help="only run Fireworks of this campaign")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1") or 1))
    parser.add_argument("--ping-s", type=float, default=DEFAULT_PING_S)
    parser.add_argument("--sleep-s", type=float, default=DEFAULT_SLEEP_S)
    parser.add_argument("--launch-dir", default=None)
    parser.add_argument("--nlaunches", type=int, default=0)
    parser.add_argument("--device", choices=DEVICES, default=None,
                        help="device of the ML calculators (cuda on GPU nodes; default: the calculator's own)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("launchpad", "rocket.launcher"):  # FireWorks' own loggers print WARNING+ themselves
        logging.getLogger(name).propagate = False
    run_worker(launchpad_file=args.launchpad, fworker_file=args.fworker, campaign=args.campaign,
               threads=args.threads, ping_s=args.ping_s, sleep_s=args.sleep_s, launch_dir=args.launch_dir,
               nlaunches=args.nlaunches, device=args.device)


if __name__ == "__main__":  # pragma: no cover
    main()
