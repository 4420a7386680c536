"""Run nbgrader's command line from Python, with the course root as working directory."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def nbgrader_env() -> dict[str, str]:
    """The environment nbgrader needs: this Python's scripts first on PATH (nbgrader runs
    `alembic` from there) and the environment's own Jupyter kernel preferred over the user's."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    return env


def run_nbgrader(root: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in ``root`` (where nbgrader_config.py lives); never raises on failure."""
    command = [sys.executable, "-m", "nbgrader", *args]
    return subprocess.run(command, cwd=root, env=nbgrader_env(), capture_output=True, text=True, timeout=timeout)
