"""Progress of long commands that anyone can read: a terminal, a log file, ``| tee``.

:class:`Progress` is what ``sianode run`` / ``submit --wait`` / ``demo`` / ``validate`` /
``crosscheck`` report to. It writes

* on a terminal (its stream is a tty): a rich progress bar;
* otherwise (``sianode run ... > log``, ``| tee``, CI): plain lines, one each time Fireworks
  finish or fail, one per stage message, and at least every ``interval_s`` (30 s) while the
  command runs, e.g.::

      [progress 0:02:10] tiny: fireworks 12/17 done, 2 running, 0 failed, 3 waiting; calculator calls made 30, reused 4; ETA 0:00:40

* always (``quiet`` too): the same plain lines, time-stamped, to every log file given
  (``sianode run`` adds ``<launch dir>/progress.log``);
* with ``quiet``: nothing on the stream.

It is called either with Firework state counts, ``progress(states, total)`` (the plain
callable that :func:`~sianode.workflows.run.run_campaign` accepts) or, with the details a
campaign run knows, ``progress.fireworks(states, total, campaign=..., computed=...,
reused=..., eta_s=...)``; or with a message for a stage of a recipe, ``progress("Si
lattice constant")``, which always gives a line.

Example::

    with Progress(quiet=False, log_file="run.log") as progress:
        progress("bcc Li reference")
        progress({"COMPLETED": 3, "RUNNING": 1, "WAITING": 4}, 8)
"""

from __future__ import annotations

import datetime
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Callable

#: a plain line at least this often while something runs, seconds
DEFAULT_INTERVAL_S = 30.0


def format_duration(seconds: float | None) -> str:
    """``H:MM:SS`` (``--`` for None)."""
    if seconds is None:
        return "--"
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def fireworks_summary(states: dict[str, int], total: int) -> dict[str, int]:
    """done / running / failed / waiting out of Firework state counts."""
    return {"done": states.get("COMPLETED", 0), "total": total,
            "running": states.get("RUNNING", 0) + states.get("RESERVED", 0),
            "failed": states.get("FIZZLED", 0),
            "waiting": states.get("WAITING", 0) + states.get("READY", 0) + states.get("PAUSED", 0)}


class Progress:
    """Progress lines / bar of a long command (see the module docstring).

    Parameters
    ----------
    quiet : bool
        Print nothing (``-q``); log files are still written.
    log_file : path, optional
        A file that gets every plain line (appended; more with :meth:`add_log_file`).
    stream : file, optional
        Where lines / the bar go (default ``sys.stdout``).
    interval_s : float
        A plain line at least this often while the command runs (a background thread
        repeats the last state with the time updated), seconds.
    terminal : bool, optional
        Force the bar (True) or plain lines (False); default: ``stream.isatty()``.
    label : str
        What the lines are about when no campaign is named.
    """

    def __init__(self, quiet: bool = False, log_file: str | Path | None = None, *, stream: IO[str] | None = None,
                 interval_s: float = DEFAULT_INTERVAL_S, terminal: bool | None = None, label: str = "progress",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet = bool(quiet)
        self.stream = stream if stream is not None else sys.stdout
        if terminal is None:
            isatty = getattr(self.stream, "isatty", None)
            terminal = bool(isatty and isatty())
        self.terminal = bool(terminal)
        self.interval_s = float(interval_s)
        self.label = label
        self._clock = clock
        self._t0 = clock()
        self._log_paths: list[Path] = []
        self._lock = threading.RLock()
        self._last_line_at: float | None = None
        self._last_signature: Any = None
        self._last_text: str | None = None
        self._bar: Any = None
        self._task: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if log_file is not None:
            self.add_log_file(log_file)

    # ------------------------------------------------------------ setup
    @property
    def plain(self) -> bool:
        """Whether plain lines go to the stream (not quiet, not a terminal)."""
        return not self.quiet and not self.terminal

    def add_log_file(self, path: str | Path) -> Path:
        """Also append every plain line to ``path`` (its folder is created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if path not in self._log_paths:
                self._log_paths.append(path)
        return path

    @property
    def log_files(self) -> list[Path]:
        return list(self._log_paths)

    def __enter__(self) -> "Progress":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def start(self) -> None:
        """Start the heartbeat thread (and the bar on a terminal)."""
        if self.terminal and not self.quiet and self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
                                     console=Console(file=self.stream), transient=False)
            self._bar.start()
        if self._thread is None and self.interval_s > 0:
            self._thread = threading.Thread(target=self._heartbeat, name="sianode-progress", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the heartbeat and the bar (the last state stays on screen)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    # ------------------------------------------------------------ reporting
    def __call__(self, states: dict[str, int] | str, total: int | None = None, **details: Any) -> None:
        """``progress(states, total)`` with Firework state counts, or ``progress("message")``."""
        if isinstance(states, str):
            self.message(states)
        else:
            self.fireworks(states, int(total or sum(states.values())), **details)

    def fireworks(self, states: dict[str, int], total: int, *, campaign: str | None = None,
                  computed: int | None = None, reused: int | None = None, eta_s: float | None = None,
                  **_: Any) -> None:
        """Firework state counts (and what a campaign run knows besides)."""
        s = fireworks_summary(states, total)
        text = (f"{campaign or self.label}: fireworks {s['done']}/{s['total']} done, {s['running']} running, "
                f"{s['failed']} failed, {s['waiting']} waiting")
        if computed is not None or reused is not None:
            text += f"; calculator calls made {computed or 0}, reused {reused or 0}"
        if s["done"] < s["total"]:
            text += f"; ETA {format_duration(eta_s)}"
        # a line when Fireworks finish or fail (not each time one starts), else every interval_s
        signature = (campaign, s["done"], s["total"], s["failed"])
        with self._lock:
            changed = signature != self._last_signature
            self._last_signature = signature
            self._last_text = text
            if self._bar is not None:
                detail = f"running {s['running']}  waiting {s['waiting']}  failed {s['failed']}"
                if self._task is None:
                    self._task = self._bar.add_task(campaign or self.label, total=total, detail=detail)
                self._bar.update(self._task, completed=s["done"], total=total, detail=detail,
                                 description=campaign or self.label)
            if changed or self._due():
                self._line(text)

    def message(self, text: str) -> None:
        """A stage change of a recipe: always one line."""
        with self._lock:
            self._last_text = text
            self._last_signature = ("message", text)
            if self._bar is not None:
                self._bar.console.print(f"  {text}")
            self._line(text, to_stream=self._bar is None, force=True)

    # ------------------------------------------------------------ internals
    def _due(self) -> bool:
        return self._last_line_at is None or self._clock() - self._last_line_at >= self.interval_s

    def _line(self, text: str, to_stream: bool = True, force: bool = False) -> None:
        """Write one line: to the stream when plain (or ``force``d, not quiet), to every log file."""
        now = self._clock()
        self._last_line_at = now
        line = f"[progress {format_duration(now - self._t0)}] {text}"
        if to_stream and not self.quiet and (self.plain or force):
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # a closed pipe must not stop the run
                pass
        if self._log_paths:
            stamp = datetime.datetime.now().isoformat(timespec="seconds")
            for path in self._log_paths:
                try:
                    with open(path, "a", encoding="utf-8") as fh:
                        fh.write(f"{stamp} {line}\n")
                except OSError:
                    pass

    def _heartbeat(self) -> None:
        step = min(1.0, self.interval_s / 4)
        while not self._stop.wait(step):
            with self._lock:
                if self._last_text is not None and self._due():
                    self._line(self._last_text, to_stream=self._bar is None)
