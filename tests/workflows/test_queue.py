"""``sianode init --queue`` and ``sianode submit`` with fake ``sbatch`` / ``qsub`` on PATH."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest


FAKE = """#!/bin/bash
# fake {cmd}: record the script, run it in the background like a scheduler would
cp "$1" "{record}"
nohup bash "$1" > "{record}.out" 2>&1 &
echo "{answer}"
"""


def _fake(bin_dir: Path, cmd: str, record: Path, answer: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / cmd
    path.write_text(FAKE.format(cmd=cmd, record=record, answer=answer))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _cli(argv: list[str]) -> int:
    from sianode.cli import main

    try:
        main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.slow
@pytest.mark.parametrize("queue, cmd, answer, directive", [
    ("slurm", "sbatch", "Submitted batch job 123", "#SBATCH"),
    ("pbs", "qsub", "123.fake-server", "#PBS"),
])
def test_submit_through_fake_scheduler(queue, cmd, answer, directive, db_uri, store, tmp_path, monkeypatch,
                                       wf, call_log, capsys):
    from sianode.workflows.run import campaign_status

    monkeypatch.chdir(tmp_path)
    record = tmp_path / f"{cmd}.script"
    _fake(tmp_path / "bin", cmd, record, answer)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("SIANODE_HOME", str(tmp_path / "home"))

    assert _cli(["--db", db_uri, "init", "campaign.yaml", "--queue", queue]) == 0
    for name in ("my_launchpad.yaml", "my_fworker.yaml", "my_qadapter.yaml"):
        assert (tmp_path / name).is_file()
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    wf.write_spec(tmp_path / "campaign.yaml", name=f"q-{queue}", dopants=["B"], counts=[1])

    assert _cli(["-q", "submit", "campaign.yaml", "--queue", queue, "--wait", "--timeout", "180"]) == 0
    script = record.read_text()
    lines = script.splitlines()
    assert lines[0] == "#!/bin/bash"
    assert any(line.startswith(directive) for line in lines)
    assert "$$" not in script
    assert "sianode.workflows.worker" in script and f"--campaign q-{queue}" in script
    rows = campaign_status(db_uri, f"q-{queue}")
    assert rows[0]["states"] == {"COMPLETED": rows[0]["fireworks"]}, (record.with_suffix(".script.out").read_text()
                                                                       if record.with_suffix(".script.out").exists()
                                                                       else "")
    assert len(wf.calls(call_log)) == len(store.find({"kind": {"$in": ["relax", "neb", "reference"]}}))
    # a second submit of the finished campaign submits nothing new
    assert _cli(["-q", "submit", "campaign.yaml", "--queue", queue]) == 0
    time.sleep(0.2)
    assert len(wf.calls(call_log)) == len(store.find({"kind": {"$in": ["relax", "neb", "reference"]}}))


@pytest.mark.slow
def test_submit_rejects_mismatched_adapter(db_uri, tmp_path, monkeypatch, wf, capsys):
    monkeypatch.chdir(tmp_path)
    assert _cli(["--db", db_uri, "init", "campaign.yaml", "--queue", "pbs"]) == 0
    wf.write_spec(tmp_path / "campaign.yaml")
    assert _cli(["submit", "campaign.yaml", "--queue", "slurm"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "_fw_q_type" in err[0] and "SLURM" in err[0]


@pytest.mark.parametrize("queue, gpu_line", [("slurm", "#SBATCH --gres=gpu:2"),
                                             ("pbs", "#PBS -l nodes=1:ppn=4:gpus=2")])
def test_templates_request_gpus_only_when_asked(queue, gpu_line, tmp_path):
    from fireworks.utilities.fw_serializers import load_object

    from sianode.workflows.queue import qadapter_dict

    files = {"launchpad_file": tmp_path / "my_launchpad.yaml", "fworker_file": tmp_path / "my_fworker.yaml"}
    gpu = load_object(qadapter_dict(queue, threads=4, gpus=2, **files))
    script = gpu.get_script_str(str(tmp_path))
    assert gpu_line in script.splitlines()
    assert "--device cuda" in script and "$$" not in script
    cpu = load_object(qadapter_dict(queue, threads=4, **files)).get_script_str(str(tmp_path))
    assert not [ln for ln in cpu.splitlines() if ln.startswith("#") and "gpu" in ln] and "--device" not in cpu
