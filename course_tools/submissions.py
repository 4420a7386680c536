"""Checks on a submitted notebook before any of it runs: can it be graded, and fairly?

``check_submission`` reads one student's assignment folder and compares the notebook with the
released one. It either gives up with a one-line reason (not JSON, too big, wrong nbformat,
no notebook) or returns the notebook to grade, repaired where the repair is obvious:

- the notebook under another file name is graded under the right one;
- graded and locked cells are matched to the release by ``grade_id``: a deleted one is put
  back from the release, a duplicate loses its grading metadata (the first one counts),
  a cell claiming an unknown ``grade_id`` becomes an ordinary cell, and edited grading
  metadata (points, checksum, schema version, ...) is put back as released;
- null bytes are removed from cell sources (Python cannot run them anyway).

Each repair is a note in the report; edits that only make sense as attempts on the grader
(grading metadata, unknown ids) are also flags for manual review, as is code that reaches
for the grader's internals (``scan_code``). nbgrader itself then puts the instructor's source
back into every locked cell, hidden tests included.
"""
from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

from course_tools.notebooks import cell_source, grade_id

MAX_NOTEBOOK_MB = 20
GRADING_KEYS = ("grade", "solution", "locked", "task", "points", "schema_version", "checksum", "cell_type")


@dataclass
class Checked:
    """What the checks made of one submission: the notebook to grade, or why there is none."""

    notebook: dict | None = None
    filename: str = ""
    reason: str = ""  # set when it cannot be graded
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def read_notebook(path: Path, max_bytes: int) -> tuple[dict | None, str]:
    """The notebook as JSON, or None and the one-line reason it cannot be graded."""
    size = path.stat().st_size
    if size > max_bytes:
        return None, f"{path.name} is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit"
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return None, f"{path.name} is not UTF-8 text (byte {err.start})"
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as err:
        return None, f"{path.name} is not valid JSON ({err})"
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return None, f"{path.name} is JSON but not a notebook (no list of cells)"
    if notebook.get("nbformat") != 4:
        return None, (f"{path.name} is an nbformat {notebook.get('nbformat')!r} notebook; nbformat 4 is "
                      "expected (open and save it in a current Jupyter)")
    try:
        nbformat.validate(nbformat.from_dict(copy.deepcopy(notebook)), version=4)
    except nbformat.ValidationError as err:
        return None, f"{path.name} does not follow the notebook format: {str(err.message).splitlines()[0][:160]}"
    return notebook, ""


def match_release(notebook: dict, release: dict) -> tuple[list[str], list[str]]:
    """Repair ``notebook`` in place against the release's graded cells; return (notes, flags)."""
    notes, flags = [], []
    released = {grade_id(c): c for c in release["cells"] if grade_id(c)}
    seen: set[str] = set()
    for index, cell in enumerate(notebook["cells"]):
        cell_id = grade_id(cell)
        if cell_id is None:
            if "nbgrader" in cell.get("metadata", {}):
                del cell["metadata"]["nbgrader"]
            continue
        if cell_id not in released:
            flags.append(f"cell {index + 1} claims grade_id {cell_id!r}, which the release does not have")
            del cell["metadata"]["nbgrader"]
            continue
        if cell_id in seen:
            notes.append(f"{cell_id} appears more than once; the first one is graded")
            del cell["metadata"]["nbgrader"]
            continue
        seen.add(cell_id)
        original = released[cell_id]
        meta, want = cell["metadata"]["nbgrader"], original["metadata"]["nbgrader"]
        edited = [k for k in GRADING_KEYS if meta.get(k) != want.get(k)]
        if cell.get("cell_type") != original["cell_type"]:
            edited.append("the cell's type")
        if edited:
            flags.append(f"{cell_id}: grading metadata edited ({', '.join(edited)}); put back as released")
            cell["metadata"]["nbgrader"] = copy.deepcopy(want)
            if cell.get("cell_type") != original["cell_type"]:
                cell.clear()
                cell.update(copy.deepcopy(original))
        if want.get("locked") and cell_source(cell) != cell_source(original):
            notes.append(f"{cell_id}: locked cell edited; the instructor's version is graded")
    # put back what was deleted, after the graded cell that comes before it in the release
    order = [grade_id(c) for c in release["cells"] if grade_id(c)]
    for position, cell_id in enumerate(order):
        if cell_id in seen:
            continue
        where = 0
        for earlier in reversed(order[:position]):
            found = [i for i, c in enumerate(notebook["cells"]) if grade_id(c) == earlier]
            if found:
                where = found[0] + 1
                break
        notebook["cells"].insert(where, copy.deepcopy(released[cell_id]))
        seen.add(cell_id)
        notes.append(f"{cell_id} was deleted; put back from the release")
    return notes, flags


# what student code has no business doing in these assignments: reaching into the grader,
# the interpreter, other processes, the file system outside its folder or the network
SUSPICIOUS_IMPORTS = {"builtins", "ctypes", "socket", "subprocess", "signal", "importlib", "urllib", "http",
                      "requests", "shutil", "pty", "resource", "gc", "inspect", "multiprocessing", "threading"}
SUSPICIOUS_CALLS = {"exec", "eval", "compile", "__import__", "setattr", "delattr", "globals", "get_ipython"}
SUSPICIOUS_ATTRS = {("os", "_exit"), ("os", "fork"), ("os", "kill"), ("os", "system"), ("os", "popen"),
                    ("os", "remove"), ("os", "unlink"), ("os", "rmdir"), ("os", "chdir"), ("os", "environ"),
                    ("sys", "exit"), ("sys", "modules"), ("sys", "settrace"), ("sys", "setprofile"),
                    ("sys", "stdout"), ("sys", "stderr"), ("sys", "excepthook")}
HARMLESS_MAGICS = {"timeit", "time", "matplotlib", "precision", "pprint", "config"}


def _python(source: str) -> str:
    """The cell as plain Python (IPython magics and ! commands become get_ipython() calls)."""
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001 - IPython's transformer raises many things on broken input
        return source


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


# The install cell the book tells a Colab learner to paste at the top of an assignment (book/launch.py
# writes it into every chapter): import course_lib and a page's extras, and only where that fails,
# %pip install them (or, while the course has no public address, raise saying how to install it).
# The sandbox has course_lib and no network, so the except branch never runs while grading.
INSTALL_CELL = re.compile(
    r"\A(?:#[^\n]*\n)*try:\n    import (course_lib(?:, \w+)*)  # noqa: F401\nexcept ImportError:\n"
    r"(?:    %pip install --quiet [^\n;|&`$]+\n    import \1  # noqa: F401"
    r'|    raise ImportError\("[^"\n]*"\n\s*"[^"\n]*"\) from None)\n?\Z')


def is_install_cell(source: str) -> bool:
    """Whether a cell is exactly the book's install cell (for any chapter): not suspicious."""
    return INSTALL_CELL.match(source.strip() + "\n") is not None


def scan_code(source: str, modules: set[str]) -> list[str]:
    """What in one cell reaches for the grader, the interpreter or the machine (empty when nothing).

    ``modules`` are the names the notebook binds to imported modules (torch, np, nn, ...):
    assigning to their attributes is monkeypatching.
    """
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError):
        return []
    harmless = {id(node.func.value) for node in ast.walk(tree)  # get_ipython().run_line_magic("timeit", ...)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("run_line_magic", "run_cell_magic") and node.args
                and isinstance(node.args[0], ast.Constant) and node.args[0].value in HARMLESS_MAGICS}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"imports {n}" for n in names if n.split(".")[0] in SUSPICIOUS_IMPORTS]
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and _root_name(target) in modules | {"__builtins__"}:
                    found.append(f"changes {_dotted(target)}")
        elif isinstance(node, ast.Call) and id(node) not in harmless:
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name == "open":
                where = _open_target(node)
                if where:
                    found.append(f"opens {where}")
            elif name in SUSPICIOUS_CALLS:
                found.append(f"calls {name}()")
            if (isinstance(node.func, ast.Attribute) and node.func.attr in ("run_line_magic", "run_cell_magic")
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and node.args[0].value not in HARMLESS_MAGICS):
                found.append(f"runs the IPython magic %{node.args[0].value}")
        elif isinstance(node, ast.Attribute) and (_dotted(node.value), node.attr) in SUSPICIOUS_ATTRS:
            found.append(f"uses {_dotted(node.value)}.{node.attr}")
        elif isinstance(node, ast.Name) and node.id in ("In", "_ih", "__builtins__"):
            found.append(f"reads {node.id}")
    return sorted(set(found))


def _open_target(call: ast.Call) -> str:
    """What an open() call reaches that its own folder does not hold ('' when nothing)."""
    if not call.args or not isinstance(call.args[0], ast.Constant) or not isinstance(call.args[0].value, str):
        return "a file by a path computed at run time"
    path = call.args[0].value
    return f"{path!r}, outside its folder" if path.startswith(("/", "~")) or ".." in Path(path).parts else ""


def import_bindings(node: ast.AST) -> dict[str, str]:
    """Names an import statement binds, each to what it imports (``import numpy as np`` -> np: numpy)."""
    if isinstance(node, ast.Import):
        return {a.asname or a.name.split(".")[0]: a.name if a.asname else a.name.split(".")[0] for a in node.names}
    if isinstance(node, ast.ImportFrom):
        return {a.asname or a.name: f"{node.module or ''}.{a.name}" for a in node.names if a.name != "*"}
    return {}


def cell_bindings(source: str) -> dict[str, str]:
    """Names a cell binds at top level to an import (-> what it imports) or a function or class (-> "")."""
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError):
        return {}
    bound = {}
    for node in tree.body:
        bound.update(import_bindings(node))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound[node.name] = ""  # defined there, not imported
    return bound


def locked_bindings(notebook: dict) -> dict[str, str]:
    """What the locked cells bind (see ``cell_bindings``)."""
    bound = {}
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("locked"):
            bound.update(cell_bindings(cell_source(cell)))
    return bound


def _assigned_names(target: ast.AST) -> list[str]:
    """Names an assignment target binds (``a``, ``a, b``, ``*a``), not ``a.x`` or ``a[0]``."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _assigned_names(element)]
    if isinstance(target, ast.Starred):
        return _assigned_names(target.value)
    return []


def rebound_names(source: str, bound: dict[str, str]) -> list[str]:
    """What in a student's cell gives a locked cell's name another meaning (``torch = ...``)."""
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [name for t in targets for name in _assigned_names(t)]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):  # importing the same thing again is fine
            names = [name for name, imported in import_bindings(node).items()
                     if bound.get(name) not in (None, imported)]
        else:
            continue
        found += [f"redefines {name}, which a locked cell {'imports' if bound[name] else 'defines'}"
                  for name in names if name in bound]
    return found


def module_names(notebook: dict) -> set[str]:
    """Names the notebook binds to imported modules (import torch, import numpy as np, from torch import nn)."""
    names = set()
    for cell in notebook["cells"]:
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(_python(cell_source(cell)))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):  # lower-case names imported: modules (torch.nn), not classes (Tensor)
            names |= {name for name, imported in import_bindings(node).items()
                      if imported.rsplit(".", 1)[-1][:1].islower()}
    return names | {"torch", "np", "numpy", "math", "builtins", "sys", "os"}


def check_submission(folder: Path, release_notebook: Path, max_bytes: int = MAX_NOTEBOOK_MB << 20) -> Checked:
    """Read, check and repair the notebook in a student's assignment folder (see the module docstring)."""
    expected = release_notebook.name
    found = sorted(p for p in folder.glob("*.ipynb") if p.is_file() and not p.is_symlink())
    checked = Checked(filename=expected)
    if (folder / expected) in found:
        path = folder / expected
    elif len(found) == 1:
        path = found[0]
        checked.notes.append(f"submitted as {path.name!r}; graded as {expected!r}")
    else:
        names = ", ".join(p.name for p in found) or "none"
        checked.reason = f"no {expected} in the folder (notebooks found: {names})"
        return checked
    notebook, reason = read_notebook(path, max_bytes)
    if notebook is None:
        checked.reason = reason
        return checked
    for index, cell in enumerate(notebook["cells"]):
        if "\x00" in cell_source(cell):
            cell["source"] = cell_source(cell).replace("\x00", "")
            checked.notes.append(f"null bytes removed from cell {index + 1}")
    release = json.loads(release_notebook.read_text(encoding="utf-8"))
    notes, flags = match_release(notebook, release)
    checked.notes += notes
    checked.flags += flags
    modules, bound = module_names(notebook), locked_bindings(notebook)
    for index, cell in enumerate(notebook["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and not meta.get("locked") and not is_install_cell(cell_source(cell)):
            for finding in scan_code(cell_source(cell), modules) + rebound_names(cell_source(cell), bound):
                checked.flags.append(f"cell {index + 1} {finding}")
    checked.notebook = notebook
    return checked
