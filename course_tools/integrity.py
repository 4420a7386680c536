"""Keeping a notebook from faking its own grade.

A submitted notebook runs in the same Python process as the tests that grade it, so its
code can try to make those tests pass without doing the work: monkeypatch ``torch.allclose``,
``numpy.testing`` or builtins, redefine a helper the tests use, or register an IPython input
transformer that blanks the test cells. nbgrader itself only checks that a test cell printed
no error. Three nbgrader preprocessors close the obvious holes:

``IntegrityGuard`` (after nbgrader's sanitizing steps) puts a first cell in front of the
student's code that records what the instructor's code relies on: every attribute of the
modules the locked and test cells import, of builtins, of ``torch.Tensor`` and the like, and
the IPython shell's transformers and hooks. Each locked cell then records the names it
defines (imports, functions, classes), and each test cell is wrapped as

    __grader__.start("test_x")    # raises GraderIntegrityError if anything recorded has changed
    <the test cell>
    __grader__.finish("test_x")   # checks again, then prints "<nonce> ok test_x"

``IntegrityCheck`` (right after execution) gives a test cell its points only if it printed
its own line: a cell that was skipped, blanked or cut short by the notebook's code prints
nothing and gets an error, as does a GraderIntegrityError. Either flags the notebook for
manual review (nbgrader's ``flagged``) and records a flag (``course_tools.events``). It then
puts every cell back as it was, so the graded notebook shows the instructor's cells unchanged.
(``course_tools.feedback`` then keeps the hidden tests out of what the student gets back.)

This catches patches and blanking done by plain notebook code; a student who reads this file
and targets the guard itself can still get past it, which is what the static scan in
course_tools.submissions flags for review.
"""
from __future__ import annotations

import ast
import secrets

from nbformat import NotebookNode

from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from course_tools import events
from course_tools.events import META
from course_tools.submissions import cell_bindings

ERROR_NAME = "GraderIntegrityError"

# Runs in the kernel, before any of the student's code. {nonce} and {modules} are filled in.
PREAMBLE = '''\
def __make_grader(nonce, module_names):
    import builtins, importlib, sys, types
    print_ = builtins.print
    shell = get_ipython()

    class GraderIntegrityError(Exception):
        pass

    modules = {{"builtins": builtins}}
    for name in module_names:
        try:
            modules[name] = importlib.import_module(name)
        except Exception:
            pass
    classes = [c for c in (getattr(modules.get("torch"), "Tensor", None),
                           getattr(getattr(modules.get("torch"), "nn", None), "Module", None),
                           getattr(modules.get("numpy"), "ndarray", None)) if c is not None]
    events = shell.events  # IPython calls these around every cell: a callback sees each cell's source
    objects = [shell, type(shell), *type(shell).__mro__, getattr(shell, "kernel", None),
               *type(getattr(shell, "kernel", None)).__mro__, events, type(events)]
    objects = [o for o in objects if o is not None and o is not object]

    changing = {{"input", "raw_input", "getpass"}}  # ipykernel swaps these at every execution

    def same(before, now):  # torch wraps some of its own functions later (functools.wraps keeps the original)
        if before is None or now is None:
            return before is now
        while now is not None and now is not before:
            now = getattr(now, "__wrapped__", None)
        return now is before

    def callables(obj):
        return {{k: v for k, v in vars(obj).items()
                if (callable(v) or isinstance(v, types.ModuleType)) and k not in changing}}

    recorded = {{name: callables(module) for name, module in modules.items()}}
    recorded_objects = [(o, callables(o)) for o in classes + objects]
    hooks = {{a: list(getattr(shell, a, []))
             for a in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")}}
    custom_exceptions = shell.custom_exceptions
    callbacks = {{event: list(registered) for event, registered in events.callbacks.items()}}
    # what libraries register once imported (matplotlib's inline backend): those functions, from their files
    known_callbacks = (("matplotlib.pyplot", "_draw_all_if_interactive"),
                       ("matplotlib_inline.backend_inline", "flush_figures"),
                       ("matplotlib_inline.backend_inline", "configure_once"))

    def known_callback(event, callback):
        if any(callback == before for before in callbacks.get(event, [])):
            return True
        code = getattr(callback, "__code__", None)
        if code is None or code.co_filename.startswith("<") or "ipykernel_" in code.co_filename:
            return False  # not a plain function, or one the notebook defined
        return any(getattr(sys.modules.get(module), name, None) is callback for module, name in known_callbacks)
    watched = {{name.split(".")[0] for name in modules}} - {{"builtins"}}
    names = {{}}

    def problems():
        found = []
        for name, module in modules.items():
            if name != "builtins" and sys.modules.get(name) is not module:
                found.append(f"sys.modules[{{name!r}}] was replaced")
            now = vars(module)
            found += [f"{{name}}.{{k}} was changed" for k, v in recorded[name].items() if not same(v, now.get(k))]
        for obj, before in recorded_objects:
            now = callables(obj)
            label = getattr(obj, "__qualname__", type(obj).__name__)
            found += [f"{{label}}.{{k}} was changed"
                      for k in set(before) | set(now) if not same(before.get(k), now.get(k))]
        for module_name, module in list(sys.modules.items()):
            if module_name.split(".")[0] in watched and module is not None:
                for k, v in list(vars(module).items()):
                    if callable(v) and getattr(v, "__module__", None) == "__main__":
                        found.append(f"{{module_name}}.{{k}} was replaced by notebook code")
        for attr, before in hooks.items():
            if list(getattr(shell, attr, [])) != before:
                found.append(f"IPython's {{attr}} were changed")
        if shell.events is not events:
            found.append("IPython's event manager was replaced")
        for event, registered in shell.events.callbacks.items():
            if not all(known_callback(event, callback) for callback in registered):
                found.append(f"IPython's {{event}} callbacks were changed")
        if shell.custom_exceptions != custom_exceptions:
            found.append("IPython's custom exception handler was set")
        for name, value in names.items():
            if shell.user_ns.get(name, remember) is not value:
                found.append(f"{{name!r}} (defined by a locked cell) was redefined")
        return sorted(set(found))

    def check(where):
        found = problems()
        if found:
            raise GraderIntegrityError(f"{{where}}: " + "; ".join(found[:5]) + ("; ..." if len(found) > 5 else ""))

    def remember(namespace, cell_names):
        names.update({{n: namespace[n] for n in cell_names if n in namespace}})

    def start(grade_id):
        check(f"before {{grade_id}}")

    def finish(grade_id, value=None):
        check(f"after {{grade_id}}")
        print_(f"{{nonce}} ok {{grade_id}}", flush=True)
        return value

    return types.SimpleNamespace(remember=remember, start=start, finish=finish)


__grader__ = __make_grader({nonce!r}, {modules!r})
del __make_grader
'''


def _cell_meta(cell: NotebookNode) -> dict:
    return cell.metadata.get(META, {})


def _imported_modules(source: str) -> set[str]:
    """Modules imported by a cell (``import a.b`` -> a, a.b; ``from a.b import c`` -> a, a.b)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
        for name in names:
            parts = name.split(".")
            found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return found


def _wrap_test(source: str, grade_id: str) -> str:
    """The test cell between start() and finish(); a last expression stays the cell's value."""
    head, tail = f"__grader__.start({grade_id!r})\n", f"__grader__.finish({grade_id!r})"
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree and tree.body and isinstance(tree.body[-1], ast.Expr):  # nbgrader's partial credit
        last = tree.body[-1]
        lines = source.splitlines()
        before = "\n".join(lines[:last.lineno - 1] + [lines[last.lineno - 1][:last.col_offset]])
        return head + before + f"__grader__.finish({grade_id!r}, {ast.get_source_segment(source, last)})"
    return head + source + "\n" + tail


class IntegrityGuard(NbGraderPreprocessor):
    """Sanitizing step: the recording cell first, locked cells remember their names, test cells wrapped."""

    def preprocess(self, nb, resources):
        nonce = secrets.token_hex(8)
        modules: set[str] = {"math"}
        for cell in nb.cells:
            if cell.cell_type == "code" and utils.is_locked(cell):
                modules |= _imported_modules(cell.source)
        for package, extra in (("torch", "torch.testing"), ("numpy", "numpy.testing")):
            if package in modules:
                modules.add(extra)
        for cell in nb.cells:
            if cell.cell_type != "code" or not utils.is_locked(cell) or not cell.source.strip():
                continue
            original = cell.source
            if utils.is_grade(cell):
                cell.source = _wrap_test(original, cell.metadata.nbgrader["grade_id"])
            elif names := list(cell_bindings(original)):
                cell.source = original + f"\n__grader__.remember(globals(), {names!r})"
            else:
                continue
            cell.metadata[META] = {"original": original}
        preamble = NotebookNode(cell_type="code", execution_count=None, outputs=[], source=PREAMBLE.format(
            nonce=nonce, modules=sorted(modules)), metadata=events.grader_cell_metadata())
        nb.cells.insert(0, preamble)
        nb.metadata[META] = {"nonce": nonce}
        return nb, resources


class IntegrityCheck(NbGraderPreprocessor):
    """After execution: a test cell that did not print its line fails; everything is put back."""

    def preprocess(self, nb, resources):
        nonce = nb.metadata.get(META, {}).get("nonce")
        if nonce is None:  # the guard did not run (not configured): nothing to check
            return nb, resources
        flags = []
        for index, cell in enumerate(nb.cells):
            meta = _cell_meta(cell)
            if "original" not in meta:
                continue
            if utils.is_grade(cell):
                grade_id = cell.metadata.nbgrader["grade_id"]
                marker = f"{nonce} ok {grade_id}"
                seen = False
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "stream" and marker in out.get("text", ""):
                        seen = True
                        out["text"] = "\n".join(line for line in out["text"].split("\n") if line != marker)
                cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "stream" or o["text"]]
                errors = [o for o in cell.outputs if o.get("output_type") == "error"]
                tampered = [o for o in errors if o.get("ename") == ERROR_NAME]
                if tampered:
                    flags.append(f"{grade_id}: {tampered[0].get('evalue', '')}")
                elif not seen and not errors:
                    why = ("the test cell did not run to its end, yet reported no error "
                           "(skipped or blanked by the notebook's code)")
                    cell.outputs.append(NotebookNode(output_type="error", ename=ERROR_NAME, evalue=why,
                                                     traceback=[f"{ERROR_NAME}: {why}"]))
                    flags.append(f"{grade_id}: {why}")
            cell.source = meta["original"]
            del cell.metadata[META]
        nb.cells = [c for c in nb.cells if not events.is_grader_cell(c)]
        del nb.metadata[META]
        if flags:
            info = resources["nbgrader"]
            for flag in flags:
                events.record(events.FLAG, flag, self.log)
            with Gradebook(info["db_url"]) as gb:
                notebook = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
                notebook.flagged = True
                gb.db.commit()
        return nb, resources
