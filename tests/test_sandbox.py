"""The sandbox itself, and the grading command's refusal to run without it.

The kernel tests start a sandboxed kernel directly and look around from inside it: what it
can read and write, its network, its limits, its environment, and that nothing outlives it.
They need bubblewrap and say how to install it when it is missing (CI installs it). The
refusal test runs everywhere.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from course_tools import submissions
from course_tools.grading import run_capped
from course_tools.sandbox import INSTALL_HINT, SandboxedKernelManager, bwrap_problem
from tests.conftest import ROOT
from tests.helpers import grade, submit
from tests.test_book_pages import load_launch
from tests.hostile import ASSIGNMENT, MAX_SCORE, NOTEBOOK, course_copy, filled_release, max_score, reference_code

needs_bwrap = pytest.mark.skipif(bwrap_problem() is not None,
                                 reason=f"needs the sandbox: {bwrap_problem()} ({INSTALL_HINT})")

PROBE = r'''
import ctypes, json, os, resource, socket, sys
def readable(path):
    try:
        with open(path, "rb") as f:
            f.read(1)
        return True
    except OSError:
        return False
def writable(path):
    try:
        with open(path, "w") as f:
            f.write("x")
        return True
    except OSError:
        return False
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    network = True
except OSError:
    network = False
print(json.dumps({{
    "uid": os.getuid(), "cwd": os.getcwd(), "root": sorted(os.listdir("/")),
    "read": {{p: readable(p) for p in {read!r}}},
    "write": {{p: writable(p) for p in {write!r}}},
    "network": network,
    "new_user_namespace": ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0,
    "limits": {{name: resource.getrlimit(getattr(resource, name))[0]
               for name in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_CORE")}},
    "env": dict(os.environ),
}}))
'''


async def _run_in_kernel(workdir: Path, code: str,
                         **limits) -> tuple[str, SandboxedKernelManager, list[psutil.Process]]:
    """Run ``code`` in a new sandboxed kernel; what it printed, its manager, and the sandbox's
    processes as they were just before the kernel was shut down."""
    km = SandboxedKernelManager(**limits)
    await km.start_kernel(cwd=str(workdir))
    kc = km.client()
    kc.start_channels()
    out: list[str] = []
    processes: list[psutil.Process] = []
    try:
        await kc.wait_for_ready(timeout=60)
        await kc.execute_interactive(code, timeout=60, output_hook=lambda msg: out.append(
            msg["content"].get("text", "")) if msg["msg_type"] == "stream" else None)
        sandbox = psutil.Process(km.provisioner.process.pid)
        processes = [sandbox, *sandbox.children(recursive=True)]
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
    return "".join(out), km, processes


def _still_running(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those of ``processes`` that have not ended (zombies waiting to be reaped count as ended)."""
    _, alive = psutil.wait_procs(processes, timeout=10)
    running = []
    for process in alive:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
        except psutil.NoSuchProcess:
            pass
    return running


@needs_bwrap
def test_kernel_sees_its_folder_and_nothing_else_of_the_course(tmp_path, monkeypatch):
    workdir = tmp_path / "autograded" / "alice" / ASSIGNMENT
    workdir.mkdir(parents=True)
    (workdir / "data.txt").write_text("the student's own file")
    monkeypatch.setenv("COURSE_SECRET_TOKEN", "do-not-leak")
    listener = __import__("socket").create_server(("127.0.0.1", 0))
    read = [str(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK), str(ROOT / "nbgrader_config.py"),
            str(Path.home() / ".bashrc"), "/etc/shadow", "data.txt", str(Path(sys.prefix) / "pyvenv.cfg")]
    write = ["new.txt", "/tmp/private.txt", str(tmp_path / "outside.txt"), str(ROOT / "pwned.txt")]
    probe = PROBE.format(port=listener.getsockname()[1], read=read, write=write)
    out, _, _ = asyncio.run(_run_in_kernel(workdir, probe, memory_mb=3000, max_processes=50, cpu_seconds=100))
    listener.close()
    seen = json.loads(out)
    assert seen["cwd"] == str(workdir)
    assert seen["uid"] != 0
    assert seen["read"] == {read[0]: False, read[1]: False, read[2]: False, read[3]: False,
                            "data.txt": True, read[5]: True}
    # write[2] lies under /tmp, which is the sandbox's own tmpfs: the write may succeed in there,
    # so what counts is that nothing reached the host's file (asserted below)
    assert seen["write"]["new.txt"] and seen["write"]["/tmp/private.txt"] and not seen["write"][write[3]]
    assert not (workdir / "new.txt").exists(), "the kernel wrote into the instructor's folder, not its copy"
    assert not (tmp_path / "outside.txt").exists() and not (ROOT / "pwned.txt").exists()
    assert seen["network"] is False
    assert seen["new_user_namespace"] is False  # no tmpfs of its own beyond the memory limit
    assert seen["limits"] == {"RLIMIT_AS": 3000 << 20, "RLIMIT_NPROC": 50, "RLIMIT_CPU": 100,
                              "RLIMIT_FSIZE": 64 << 20, "RLIMIT_CORE": 0}
    assert "COURSE_SECRET_TOKEN" not in seen["env"] and seen["env"]["HOME"] == "/tmp"
    assert seen["env"]["OMP_NUM_THREADS"] == "1" and seen["env"]["PYTHONHASHSEED"] == "0"
    system = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp", "usr"}
    assert set(seen["root"]) <= system | {Path(p).parts[1] for p in (sys.prefix, sys.base_prefix, ROOT)}


@needs_bwrap
def test_a_memory_bomb_stops_at_the_memory_limit(tmp_path):
    bomb = "hog = []\ntry:\n    while True:\n        hog.append(bytearray(64 * 2**20))\nexcept MemoryError:\n" \
           "    print('stopped at', len(hog) * 64, 'MiB')"
    out, _, _ = asyncio.run(_run_in_kernel(tmp_path, bomb, memory_mb=1024))
    assert out.startswith("stopped at") and int(out.split()[2]) < 1024


@needs_bwrap
def test_forked_memory_hogs_are_stopped_together(tmp_path):
    """The address-space limit holds per process; the sandbox also watches its processes' sum."""
    hogs = ("import os, time\nfor _ in range(6):\n    if os.fork() == 0:\n        hog = bytearray(400 * 2**20)\n"
            "        time.sleep(60)\nprint('still alive')\ntime.sleep(60)")

    async def run() -> SandboxedKernelManager:
        km = SandboxedKernelManager(total_memory_mb=1200)
        await km.start_kernel(cwd=str(tmp_path))
        kc = km.client()
        kc.start_channels()
        await kc.wait_for_ready(timeout=60)
        kc.execute(hogs)
        for _ in range(100):
            if not await km.is_alive():
                break
            await asyncio.sleep(0.2)
        kc.stop_channels()
        await km.shutdown_kernel(now=True)
        return km

    km = asyncio.run(run())
    assert km.killed_for and "over the sandbox's 1200 MiB" in km.killed_for


@needs_bwrap
def test_a_fork_bomb_ends_with_its_kernel(tmp_path):
    bomb = ("import os\nfor _ in range(200):\n    try:\n        os.fork()\n    except OSError:\n        break\n"
            "print('forked')")
    out, km, processes = asyncio.run(_run_in_kernel(tmp_path, bomb, max_processes=40))
    assert "forked" in out and processes
    assert _still_running(processes) == [], "sandboxed processes outlived their kernel"
    assert not Path(km.connection_file).parent.exists(), "the kernel's connection folder was left behind"


def test_a_run_past_its_cap_is_stopped_with_everything_it_started(tmp_path):
    sleeper = ("import subprocess, sys, time\n"
               "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
               "print(child.pid, flush=True)\ntime.sleep(600)")
    code, log = run_capped([sys.executable, "-c", sleeper], tmp_path, seconds=5)
    assert code is None, "the cap did not stop the run"
    try:
        child = psutil.Process(int(log.split()[0]))
    except psutil.NoSuchProcess:
        return  # gone already
    assert _still_running([child]) == [], "a child of the stopped run is still alive"


BROKEN_BWRAP = """#!/bin/sh
[ "$1" = --version ] && echo "bubblewrap 0.8.0" && exit 0
echo "bwrap: Creating new namespace failed: Operation not permitted" >&2
exit 1
"""


@pytest.mark.parametrize("bwrap, says", [(None, "apt-get install bubblewrap"),
                                         (BROKEN_BWRAP, "cannot build the sandbox here (bwrap: Creating new")])
def test_grading_refuses_without_a_working_sandbox_and_says_why(tmp_path, bwrap, says):
    course = course_copy(tmp_path)
    submit(course, "alice", course / "assignments" / ASSIGNMENT / NOTEBOOK, ASSIGNMENT)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if bwrap:  # installed, but namespaces are not allowed (a container without the privilege)
        (bin_dir / "bwrap").write_text(bwrap)
        (bin_dir / "bwrap").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin" if bwrap else str(bin_dir)}
    result = subprocess.run([sys.executable, "-m", "course_tools", "--root", str(course), "grade"],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 2
    assert says in result.stderr and "--unsandboxed" in result.stderr and result.stderr.count("\n") == 1
    assert not (course / "autograded").exists() and not (course / "grades.csv").exists()


def test_unsandboxed_grading_is_explicit_and_marked(tmp_path):
    course = course_copy(tmp_path)
    release = json.loads((course / "assignments" / ASSIGNMENT / NOTEBOOK).read_text())
    reference = reference_code(json.loads((course / "solutions" / ASSIGNMENT / NOTEBOOK).read_text()))
    submit(course, "alice", filled_release(release, reference), ASSIGNMENT)
    result = grade(course, "--unsandboxed", ASSIGNMENT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("UNSANDBOXED")
    report = json.loads((course / "grading_report.json").read_text())
    assert report["sandboxed"] is False and report["outcomes"][0]["score"] == MAX_SCORE


@needs_bwrap
def test_regrading_gives_the_same_scores_and_numbers(tmp_path):
    """04-teacher-forcing trains a model in the notebook: seeded, one thread, the same every time."""
    assignment = "04-teacher-forcing"
    course = course_copy(tmp_path)
    release = json.loads((course / "assignments" / assignment / f"{assignment}.ipynb").read_text())
    reference = reference_code(json.loads((course / "solutions" / assignment / f"{assignment}.ipynb").read_text()))
    submit(course, "alice", filled_release(release, reference), assignment)
    runs = []
    for _ in range(2):
        assert grade(course, assignment, "--force").returncode == 0  # graded again, though nothing changed
        notebook = json.loads((course / "autograded" / "alice" / assignment / f"{assignment}.ipynb").read_text())
        printed = ["".join(o.get("text", "")) for c in notebook["cells"] for o in c.get("outputs", [])
                   if o.get("output_type") == "stream"]
        # the text, not how the kernel happened to split it into stream messages (a stray empty
        # stream message at the end was seen once in CI)
        runs.append((json.loads((course / "grading_report.json").read_text())["outcomes"][0]["score"],
                     "\n".join(line for line in "".join(printed).splitlines() if line.strip())))
    assert runs[0] == runs[1]
    assert runs[0][0] == max_score(json.loads((course / "solutions" / assignment / f"{assignment}.ipynb").read_text()))


@pytest.mark.parametrize("damage, reason", [
    (lambda text: text[: len(text) // 2], "not valid JSON"),
    (lambda text: text.replace('"nbformat": 4', '"nbformat": 5'), "nbformat 5 notebook"),
    (lambda text: json.dumps({"cells": "none", "nbformat": 4}), "not a notebook"),
    (lambda text: text.replace('"cells": [', '"cells": [{"cell_type": "code"},', 1),
     "does not follow the notebook format"),
])
def test_a_notebook_that_cannot_be_graded_gets_one_line_why(tmp_path, damage, reason):
    release = ROOT / "assignments" / ASSIGNMENT / NOTEBOOK
    (tmp_path / NOTEBOOK).write_text(damage(release.read_text()))
    checked = submissions.check_submission(tmp_path, release)
    assert checked.notebook is None and reason in checked.reason and "\n" not in checked.reason


def test_honest_work_is_not_flagged_and_patches_are(tmp_path):
    for folder in sorted((ROOT / "solutions").iterdir()):
        notebook = f"{folder.name}.ipynb"
        release = json.loads((ROOT / "assignments" / folder.name / notebook).read_text())
        (tmp_path / notebook).write_text(json.dumps(filled_release(release, reference_code(json.loads(
            (folder / notebook).read_text())))))
        checked = submissions.check_submission(tmp_path, ROOT / "assignments" / folder.name / notebook)
        assert (checked.reason, checked.notes, checked.flags) == ("", [], []), folder.name
        (tmp_path / notebook).unlink()
    found = submissions.scan_code("import torch\ntorch.allclose = lambda *a: True\n%timeit 1\n!ls", {"torch"})
    assert found == ["calls get_ipython()", "changes torch.allclose"]
    bound = {"torch": "torch", "digit_batch": ""}
    assert submissions.rebound_names("torch.allclose = f\nimport torch\nx = torch.ones(1)", bound) == []
    assert submissions.rebound_names("import numpy as torch\ndef digit_batch(): pass", bound) == [
        "redefines torch, which a locked cell imports", "redefines digit_batch, which a locked cell defines"]



def test_the_books_install_cell_pasted_into_an_assignment_is_not_flagged(tmp_path):
    """The chapters tell Colab learners to paste the chapter's install cell at the top of the
    assignment: in both its forms (an address to install from, or the placeholder's message) it is
    not suspicious; the same cell with anything added is."""
    launch = load_launch()
    page = (ROOT / "book" / "07-bert.md").read_text(encoding="utf-8")  # imports an extra of its own
    release_path = ROOT / "assignments" / ASSIGNMENT / NOTEBOOK
    release = json.loads(release_path.read_text())
    answered = filled_release(release, reference_code(json.loads((ROOT / "solutions" / ASSIGNMENT / NOTEBOOK).read_text())))
    for placeholder in (False, True):
        fenced = launch.install_cell(page, "https://github.com/example/course", "main", placeholder)
        source = fenced.split("\n", 2)[2].rsplit("```", 1)[0]  # without the code-cell fence and its tag
        assert submissions.is_install_cell(source), source
        for cell_source, flagged in ((source, False), (source + "import os\nos.system('id')\n", True)):
            notebook = json.loads(json.dumps(answered))
            notebook["cells"].insert(0, {"cell_type": "code", "execution_count": None, "id": "install",
                                         "metadata": {}, "outputs": [], "source": cell_source})
            (tmp_path / NOTEBOOK).write_text(json.dumps(notebook))
            checked = submissions.check_submission(tmp_path, release_path)
            assert bool(checked.flags) == flagged, (placeholder, checked.flags)
