"""Run the ``sianode`` command line in-process, as the tests of every layer do."""

from __future__ import annotations

from typing import Any, Sequence


def run_cli(args: Sequence[str], capsys: Any) -> tuple[int, str, str]:
    """``sianode ARGS`` through :func:`sianode.cli.main`: ``(exit status, stdout, stderr)``."""
    from sianode.cli import main

    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
