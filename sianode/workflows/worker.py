"""One FireWorks worker process: ``python -m sianode.workflows.worker``.

``sianode run`` starts N of these; a SLURM/PBS job script written from
``my_qadapter.yaml`` runs one. Each worker pins torch/OpenMP to ``--threads``, pings
FireWorks every ``--ping-s`` seconds (FireWorks' own default is one hour, too slow to
notice a killed job), and runs FireWorks ``rapidfire`` until no Firework of the campaign
is ready or waiting. Its FWorker name, ``sianode-worker:<host>:<pid>``, lets ``sianode
run`` see at once that a worker on this host died, and rerun its Fireworks.

Database: ``--launchpad my_launchpad.yaml``, else ``$SIANODE_DB_URI`` /
``$SIANODE_LAUNCHPAD``, else the embedded server.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

log = logging.getLogger(__name__)

WORKER_PREFIX = "sianode-worker"
DEFAULT_PING_S = 30
DEFAULT_SLEEP_S = 1


def worker_name(pid: int | None = None) -> str:
    """FWorker name of a sianode worker process on this host."""
    return f"{WORKER_PREFIX}:{socket.gethostname()}:{pid or os.getpid()}"


def pin_threads(threads: int) -> None:
    """Set OpenMP/MKL/torch thread counts of this process to ``threads``."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def run_worker(*, launchpad_file: str | None = None, fworker_file: str | None = None, campaign: str | None = None,
               threads: int = 1, ping_s: float = DEFAULT_PING_S, sleep_s: float = DEFAULT_SLEEP_S,
               launch_dir: str | None = None, nlaunches: int = 0) -> None:
    """Run Fireworks until none is left (see module docstring)."""
    pin_threads(threads)
    import fireworks.core.rocket as rocket
    from fireworks import FWorker, LaunchPad
    from fireworks.core.rocket_launcher import rapidfire

    rocket.PING_TIME_SECS = ping_s  # FireWorks reads it from its module globals
    if launchpad_file:
        os.environ.setdefault("SIANODE_LAUNCHPAD", os.path.abspath(launchpad_file))
        lp = LaunchPad.from_file(launchpad_file)
    else:
        from sianode.workflows.run import campaign_launchpad

        lp, _ = campaign_launchpad(None)
    fworker = FWorker.from_file(fworker_file) if fworker_file else FWorker()
    fworker.name = worker_name()
    if campaign:
        from sianode.workflows.flows import SPEC_CAMPAIGN

        fworker._query = {**fworker._query, f"spec.{SPEC_CAMPAIGN}": campaign}  # FWorker.query is read-only
    launch_dir = os.path.abspath(launch_dir or os.getcwd())
    os.makedirs(launch_dir, exist_ok=True)
    rapidfire(lp, fworker, m_dir=launch_dir, nlaunches=nlaunches, sleep_time=sleep_s, strm_lvl="WARNING")


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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    run_worker(launchpad_file=args.launchpad, fworker_file=args.fworker, campaign=args.campaign,
               threads=args.threads, ping_s=args.ping_s, sleep_s=args.sleep_s, launch_dir=args.launch_dir,
               nlaunches=args.nlaunches)


if __name__ == "__main__":  # pragma: no cover
    main()
