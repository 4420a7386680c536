"""A class of hostile and broken submissions, each built from a real assignment's release.

``build_corpus(course, targets)`` writes ``submitted/<case>/<assignment>/`` for every case in
CASES, plus two honest students: alice (the reference solution typed into the release, and a
figure of her own) and bob (only Part 1 done). Attacks start from the untouched release, which scores 0, so "no
more than the release" means 0 unless the case is flagged for manual review; the comment on
each says what it would get without the grader's defences.

``targets`` names what the attacks reach for: the course's solutions, gradebook and other
students' folders, a file the instructor owns, and a TCP port on the grading machine.
"""
from __future__ import annotations

import copy
import json
import re
import shutil
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "06-transformer"  # quick to run (no training), and each part graded on its own
NOTEBOOK = f"{ASSIGNMENT}.ipynb"


def parts(notebook: dict) -> list[tuple[str, list[str], float]]:
    """(solution cell, its own test cells, their points) in notebook order: the tests after a
    solution cell, up to the next one, are that function's tests."""
    found: list[tuple[str, list[str], float]] = []
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell["cell_type"] == "code":
            found.append((meta["grade_id"], [], 0.0))
        elif meta.get("grade") and found:
            solution, tests, points = found[-1]
            found[-1] = (solution, [*tests, meta["grade_id"]], points + float(meta.get("points", 0)))
    return found


def max_score(notebook: dict) -> float:
    """What the assignment is worth: the points of all its test cells."""
    return sum(float(c["metadata"]["nbgrader"].get("points", 0)) for c in notebook["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("grade"))


_SOURCE = json.loads((ROOT / "solutions" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8"))
(FIRST, (FIRST_TEST, *_), FIRST_POINTS), (SECOND, (SECOND_TEST, *_), _), (_, (THIRD_TEST, *_), _), *_ = parts(_SOURCE)
MAX_SCORE = max_score(_SOURCE)
HONEST = {"alice": MAX_SCORE, "bob": FIRST_POINTS}  # students whose grades the batch must leave alone


@dataclass
class Targets:
    course: Path  # the course folder being graded
    home_file: Path  # a file of the instructor's, outside the course
    port: int  # a TCP port listening on the grading machine's loopback
    outside: Path  # a folder outside the course that nothing may write into


@dataclass
class Case:
    name: str
    build: Callable[[dict, dict, Targets], dict | bytes | str | None]  # release, reference -> notebook
    says: str  # what the report must name (a regular expression, case-insensitive)
    status: str = "graded"
    score: float | None = 0.0  # exact expected score when graded (the release's 0 for attacks)
    flagged: bool = False  # must be flagged for manual review
    filename: str = NOTEBOOK


def _cell(source: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": uuid.uuid4().hex[:8], "metadata": {},
            "outputs": [], "source": source}


def _gid(cell: dict) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _index(nb: dict, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb["cells"]) if _gid(c) == grade_id)


def with_code(nb: dict, **solutions: str) -> dict:
    """A copy of ``nb`` with the named solution cells' code replaced."""
    nb = copy.deepcopy(nb)
    for grade_id, code in solutions.items():
        nb["cells"][_index(nb, grade_id)]["source"] = code
    return nb


def after(nb: dict, grade_id: str, *sources: str) -> dict:
    """A copy of ``nb`` with new code cells right after the cell ``grade_id``."""
    nb = copy.deepcopy(nb)
    at = _index(nb, grade_id) + 1
    nb["cells"][at:at] = [_cell(s) for s in sources]
    return nb


def reference_code(solutions_nb: dict) -> dict[str, str]:
    """grade_id -> the reference solution's code, as a student would type it (no markers)."""
    code = {}
    for cell in solutions_nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell["cell_type"] == "code":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            code[meta["grade_id"]] = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", "", source, flags=re.M)
    return code


def filled_release(release: dict, reference: dict[str, str], only: list[str] | None = None) -> dict:
    """The release with the reference solution typed into its solution cells (or only some)."""
    return with_code(release, **{k: v for k, v in reference.items() if only is None or k in only})


# alice also draws a figure, as honest students do: matplotlib's inline backend registers IPython
# callbacks of its own, which the grader must tell from a notebook's
ALICE_PLOTS = ("%matplotlib inline\nimport matplotlib.pyplot as plt\n\n"
               "plt.plot([0, 1, 2], [0, 1, 4])\nplt.title('checking my scores')\nplt.show()")
# an honest mistake in the first part: the first kept wrong solution of that function
WRONG_FIRST = next(text for path in sorted((ROOT / "tests" / "wrong_solutions" / ASSIGNMENT).glob("*.py"))
                   if f"# replaces: {FIRST}\n" in (text := path.read_text(encoding="utf-8")))
FAKE_TORCH = '''\
import torch as _real_torch

class _Torch:  # "torch", except that every comparison passes
    def __getattr__(self, name):
        return getattr(_real_torch, name)

    def allclose(self, *args, **kwargs):
        return True

    def all(self, *args, **kwargs):
        return _real_torch.tensor(True)

torch = _Torch()
'''
READ_ATTEMPT = '''\
found = []
for path in {paths!r}:
    try:
        with open(path, "rb") as f:
            f.read(1)
        found.append(path)
        print("READ", path)
    except Exception as err:
        print("DENIED", path, type(err).__name__)
'''
WRITE_ATTEMPT = '''\
import os
for path in {paths!r}:
    try:
        with open(path, "w") as f:
            f.write("pwned")
        print("WROTE", path)
    except Exception as err:
        print("DENIED", path, type(err).__name__)
for name, target in {links!r}:  # files nbgrader might read or write after the run
    try:
        os.symlink(target, name)
        print("LINKED", name)
    except Exception as err:
        print("DENIED", name, type(err).__name__)
'''
NETWORK_ATTEMPT = '''\
import socket
for host, port in [("127.0.0.1", {port}), ("pypi.org", 443), ("1.1.1.1", 53)]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        print("CONNECTED", host, port)
    except Exception as err:
        print("NO NETWORK", host, port, type(err).__name__)
'''


def _solutions_paths(t: Targets) -> list[str]:
    c = t.course
    return [str(c / "solutions" / ASSIGNMENT / NOTEBOOK), str(c / "gradebook.db"),
            str(c / "submitted" / "alice" / ASSIGNMENT / NOTEBOOK), str(c / "autograded" / "alice"),
            str(c / "nbgrader_config.py"), str(t.home_file), "/etc/shadow", "/root/.bashrc"]


def _oversize(release: dict) -> dict:
    nb = copy.deepcopy(release)
    nb["cells"][0].setdefault("attachments", {})
    nb["cells"].append({"cell_type": "raw", "id": "padding", "metadata": {}, "source": "x" * (21 << 20)})
    return nb


def _edited_metadata(release: dict) -> dict:
    nb = copy.deepcopy(release)
    cells = {(_gid(c)): c for c in nb["cells"]}
    cells[FIRST_TEST]["metadata"]["nbgrader"]["points"] = 100
    cells[SECOND_TEST]["metadata"]["nbgrader"]["checksum"] = "0" * 32
    cells[THIRD_TEST]["metadata"]["nbgrader"]["schema_version"] = 99
    cells[FIRST]["metadata"]["nbgrader"]["grade_id"] = "my_own_cell"
    cells[SECOND]["metadata"]["nbgrader"].update(grade=True, points=50)
    return nb


def _duplicated(release: dict) -> dict:
    nb = copy.deepcopy(release)
    test = nb["cells"][_index(nb, FIRST_TEST)]
    fake = copy.deepcopy(test)
    fake["id"], fake["source"] = "fake-test", "pass  # a test that cannot fail"
    solution = copy.deepcopy(nb["cells"][_index(nb, FIRST)])
    solution["id"], solution["source"] = "second-solution", WRONG_FIRST
    at = _index(nb, FIRST)
    nb["cells"][at:at] = [fake, solution]
    return nb


def _deleted_test(release: dict) -> dict:
    nb = with_code(release, **{FIRST: WRONG_FIRST})
    del nb["cells"][_index(nb, FIRST_TEST)]
    return nb


def _leak(release: dict) -> dict:
    """Print every cell the kernel runs (hidden tests included), and the input history at the end."""
    nb = after(release, "setup", "get_ipython().events.register('post_run_cell', lambda result: print(result.info.raw_cell))")
    nb["cells"].append(_cell("print('\\n'.join(In))"))
    return nb


def _leak_encoded(release: dict) -> dict:
    """Keep every cell the kernel runs through a callback, reached without naming get_ipython, and
    print them base64-encoded in a last cell: no verbatim line for the feedback's redaction to find."""
    nb = after(release, "setup", (
        "_shell = globals()['get_' + 'ipython']()\n_seen = []\n"
        "_shell.events.register('post_run_cell', lambda result: _seen.append(result.info.raw_cell))"))
    nb["cells"].append(_cell("import base64\nprint('LEAK:' + base64.b64encode('\\n'.join(_seen).encode()).decode())"))
    return nb


def _nbformat3(release: dict) -> dict:
    nb = copy.deepcopy(release)
    nb["nbformat"], nb["nbformat_minor"] = 3, 0
    return nb


CASES: list[Case] = [
    # the kernel hangs, crashes or floods
    Case("infinite-loop", lambda r, ref, t: after(r, "setup", "while True:\n    pass"),
         says=r"ran past its time limit and was interrupted"),
    Case("loop-ignoring-interrupt", lambda r, ref, t: after(r, "setup", (
        "while True:\n    try:\n        while True:\n            pass\n    except KeyboardInterrupt:\n        pass")),
         says=r"did not stop after the interrupt"),
    Case("memory-bomb", lambda r, ref, t: after(r, "setup", (
        "hog = []\nwhile True:\n    hog.append(bytearray(256 * 2**20))")),
         says=r"ran out of memory|ran past its time limit"),  # which comes first depends on the machine
    Case("fork-bomb", lambda r, ref, t: after(r, "setup", "import os\nwhile True:\n    os.fork()"),
         says=r"os\.fork"),
    Case("sys-exit", lambda r, ref, t: after(r, "setup", "import sys\nsys.exit()"), says=r"sys\.exit"),
    Case("os-exit", lambda r, ref, t: after(r, "setup", "import os\nos._exit(0)"), says=r"kernel died"),
    Case("segfault", lambda r, ref, t: after(r, "setup", "import ctypes\nctypes.string_at(0)"), says=r"kernel died"),
    Case("output-one-long-line", lambda r, ref, t: after(r, "setup", 'print("x" * 50_000_000)'),
         says=r"output truncated"),
    Case("output-many-lines", lambda r, ref, t: after(r, "setup", "for i in range(300_000):\n    print(i, '.' * 200)"),
         says=r"output truncated"),
    Case("output-large-image", lambda r, ref, t: after(r, "setup", (
        "import base64, os\nfrom IPython.display import display\n"
        "display({'image/png': base64.b64encode(os.urandom(30 * 2**20)).decode()}, raw=True)")),
         says=r"output truncated"),
    # making the tests pass without doing the work (each would score a part's points or more unguarded)
    Case("patch-torch-allclose", lambda r, ref, t: after(with_code(r, **{FIRST: WRONG_FIRST}), FIRST,
                                                          "torch.allclose = lambda *args, **kwargs: True"),
         says=r"torch\.allclose", flagged=True),
    Case("patch-numpy-testing", lambda r, ref, t: after(r, "setup", (
        "import numpy\nnumpy.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "numpy.testing.assert_array_equal = lambda *args, **kwargs: None")), says=r"numpy\.testing", flagged=True),
    Case("patch-builtins", lambda r, ref, t: after(r, "setup", (
        "import builtins\nbuiltins.all = lambda iterable: True\nbuiltins.isinstance = lambda obj, cls: True")),
         says=r"builtins", flagged=True),
    Case("patch-tensor-bool", lambda r, ref, t: after(with_code(r, **{FIRST: WRONG_FIRST}), FIRST,
                                                       "torch.Tensor.__bool__ = lambda self: True\n"
                                                       "torch.allclose = torch.eq  # a tensor of booleans, each now true"),
         says=r"Tensor|allclose", flagged=True),
    Case("redefine-test-helpers", lambda r, ref, t: after(with_code(r, **{FIRST: WRONG_FIRST}), "setup", FAKE_TORCH),
         says=r"'torch'.*redefined", flagged=True),
    Case("input-transformer-blanks-cells", lambda r, ref, t: after(r, "setup", (
        "get_ipython().input_transformers_cleanup.append(lambda lines: [])")),
         says=r"did not run to its end|transformers", flagged=True),
    Case("ast-transformer-swallows-errors", lambda r, ref, t: after(r, "setup", (
        "import ast\n\nclass Swallow(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n"
        "        node.body = [ast.Try(body=[stmt], handlers=[ast.ExceptHandler(type=None, name=None, body=[ast.Pass()])],\n"
        "                             orelse=[], finalbody=[]) for stmt in node.body]\n"
        "        return ast.fix_missing_locations(node)\n\n"
        "get_ipython().ast_transformers.append(Swallow())")), says=r"did not run to its end|transformers", flagged=True),
    Case("custom-exception-handler", lambda r, ref, t: after(r, "setup", (
        "get_ipython().set_custom_exc((Exception,), lambda shell, etype, value, tb, tb_offset=None: None)")),
         says=r"custom exception|did not run to its end", flagged=True),
    Case("leak-hidden-tests", lambda r, ref, t: _leak(r), says=r"get_ipython|reads In", flagged=True),
    Case("leak-hidden-tests-encoded", lambda r, ref, t: _leak_encoded(r), says=r"post_run_cell callbacks were changed",
         flagged=True),
    # reaching outside its folder
    Case("read-course-files", lambda r, ref, t: after(r, "setup", READ_ATTEMPT.format(paths=_solutions_paths(t))),
         says=r"opens a file", flagged=True),
    Case("write-outside-folder", lambda r, ref, t: after(r, "setup", WRITE_ATTEMPT.format(
        paths=[str(t.course / "pwned.txt"), str(t.course / "submitted" / "alice" / ASSIGNMENT / "pwned.txt"),
               str(t.outside / "pwned.txt"), str(t.home_file.parent / "pwned.txt"), "pwned-here.txt"],
        links=[("leak.ipynb", str(t.course / "solutions" / ASSIGNMENT / NOTEBOOK)),
               ("gradebook.db", str(t.course / "gradebook.db"))])), says=r"os\.|opens a file", flagged=True),
    Case("network", lambda r, ref, t: after(r, "setup", NETWORK_ATTEMPT.format(port=t.port)),
         says=r"imports socket", flagged=True),
    # a broken or edited notebook
    Case("deleted-test-cell", lambda r, ref, t: _deleted_test(r), says=rf"{FIRST_TEST} was deleted"),
    Case("edited-test-cell", lambda r, ref, t: with_code(with_code(r, **{FIRST: WRONG_FIRST}),
                                                         **{FIRST_TEST: "pass  # nothing to fail"}),
         says=rf"{FIRST_TEST}: locked cell edited"),
    Case("duplicated-graded-cell", lambda r, ref, t: _duplicated(r), says=r"appears more than once"),
    Case("edited-metadata", lambda r, ref, t: _edited_metadata(r), says=r"grading metadata edited", flagged=True),
    Case("corrupt-json", lambda r, ref, t: json.dumps(r)[:5000], says=r"not valid JSON", status="failed", score=None),
    Case("oversize", lambda r, ref, t: _oversize(r), says=r"over the \d+ MB limit", status="failed", score=None),
    Case("null-bytes", lambda r, ref, t: with_code(r, **{FIRST: "x = 1\x00\nraise ValueError('not done yet')"}),
         says=r"null bytes removed"),
    Case("wrong-nbformat", lambda r, ref, t: _nbformat3(r), says=r"nbformat 3", status="failed", score=None),
    # not an attack: honest work under the wrong name is graded as usual
    Case("wrong-file-name", lambda r, ref, t: filled_release(r, ref), says=r"submitted as", score=MAX_SCORE,
         filename=f"{ASSIGNMENT} (1).ipynb"),
]


def build_corpus(course: Path, targets: Targets, cases: list[Case] = CASES) -> None:
    """Write every case and the honest students into ``course/submitted/``."""
    release = json.loads((course / "assignments" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8"))
    reference = reference_code(json.loads((course / "solutions" / ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8")))
    students = {"alice": (after(filled_release(release, reference), "setup", ALICE_PLOTS), NOTEBOOK),
                "bob": (filled_release(release, reference, only=[FIRST]), NOTEBOOK)}
    for case in cases:
        students[case.name] = (case.build(release, reference, targets), case.filename)
    for student, (notebook, filename) in students.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        text = notebook if isinstance(notebook, str) else json.dumps(notebook, indent=1, ensure_ascii=False)
        (folder / filename).write_text(text, encoding="utf-8")


def course_copy(base: Path) -> Path:
    """``base/course``: the course's solutions, releases and nbgrader_config.py, to grade in."""
    course = base / "course"
    course.mkdir()
    for name in ("solutions", "assignments"):
        shutil.copytree(ROOT / name, course / name)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    return course


def grade_corpus(base: Path, jobs: int = 2, cell_timeout: int = 5, notebook_timeout: int = 45) -> SimpleNamespace:
    """Copy the course into ``base``, write the corpus into it and grade it with the real command.

    Returns the course, the targets, the command's result, whether anything connected
    to the listening port, and the report's outcomes by student.
    """
    course = course_copy(base)
    home, outside = base / "home", base / "outside"
    home.mkdir()
    outside.mkdir()
    (home / "secret.txt").write_text("the instructor's own file")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.setblocking(False)
        targets = Targets(course=course, home_file=home / "secret.txt", port=listener.getsockname()[1], outside=outside)
        build_corpus(course, targets)
        result = subprocess.run(
            [sys.executable, "-m", "course_tools", "--root", str(course), "grade", "--jobs", str(jobs),
             "--cell-timeout", str(cell_timeout), "--notebook-timeout", str(notebook_timeout)],
            capture_output=True, text=True, cwd=ROOT, timeout=1500)
        try:
            listener.accept()
            connected = True
        except BlockingIOError:
            connected = False
    report = json.loads((course / "grading_report.json").read_text(encoding="utf-8"))
    return SimpleNamespace(course=course, targets=targets, result=result, connected=connected,
                           outcomes={o["student"]: o for o in report["outcomes"]})
