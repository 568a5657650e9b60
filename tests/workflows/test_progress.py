"""Progress lines anyone can read: plain lines off a terminal, a bar on one, nothing with -q."""

from __future__ import annotations

import io
import time

from sianode.workflows.progress import Progress, format_duration


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_plain_lines_at_each_change_and_every_interval(tmp_path):
    clock = _Clock()
    out = io.StringIO()
    log = tmp_path / "launch" / "progress.log"
    p = Progress(stream=out, log_file=log, interval_s=30, clock=clock)
    assert p.plain  # a StringIO is not a terminal
    p({"WAITING": 3, "READY": 1}, 4)
    p({"WAITING": 3, "READY": 1}, 4)  # same state, within 30 s: no line
    clock.t = 12.0
    p.fireworks({"COMPLETED": 1, "RUNNING": 1, "WAITING": 2}, 4, campaign="tiny", computed=3, reused=1, eta_s=65)
    clock.t = 45.0
    p.fireworks({"COMPLETED": 1, "RUNNING": 1, "WAITING": 2}, 4, campaign="tiny", computed=3, reused=1, eta_s=40)
    p("bcc Li reference")  # a recipe's stage: always a line
    lines = out.getvalue().splitlines()
    assert len(lines) == 4, lines
    assert lines[0] == "[progress 0:00:00] progress: fireworks 0/4 done, 0 running, 0 failed, 4 waiting; ETA --"
    assert lines[1] == ("[progress 0:00:12] tiny: fireworks 1/4 done, 1 running, 0 failed, 2 waiting; "
                        "calculator calls made 3, reused 1; ETA 0:01:05")
    assert lines[2].startswith("[progress 0:00:45] tiny: fireworks 1/4")  # 33 s later, unchanged: repeated
    assert lines[3] == "[progress 0:00:45] bcc Li reference"
    logged = log.read_text().splitlines()
    assert [ln.split(" ", 1)[1] for ln in logged] == lines  # time-stamped copies


def test_heartbeat_repeats_the_last_state_while_nothing_changes():
    out = io.StringIO()
    with Progress(stream=out, interval_s=0.2) as p:
        p({"RUNNING": 1}, 2)
        time.sleep(0.7)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3 and all("fireworks 0/2 done, 1 running" in ln for ln in lines)


def test_quiet_prints_nothing_but_still_logs(tmp_path):
    out = io.StringIO()
    with Progress(quiet=True, stream=out, log_file=tmp_path / "p.log") as p:
        p({"COMPLETED": 2}, 2)
        p("done")
    assert out.getvalue() == ""
    assert len((tmp_path / "p.log").read_text().splitlines()) == 2


def test_terminal_gets_the_bar_not_plain_lines():
    out = io.StringIO()
    with Progress(stream=out, terminal=True, interval_s=0) as p:
        assert not p.plain
        p({"COMPLETED": 1, "WAITING": 1}, 2)
    text = out.getvalue()
    assert "[progress" not in text and "1/2" in text


def test_format_duration():
    assert format_duration(None) == "--"
    assert format_duration(3725.4) == "1:02:05"
