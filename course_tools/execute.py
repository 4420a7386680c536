"""Running a submitted notebook for nbgrader: sandboxed kernels, and caps that keep a notebook
from hanging, flooding or crashing the grader.

``SandboxedExecute`` replaces nbgrader's ``Execute`` step (``course_tools.pipeline`` puts it
in). Its kernels come from ``course_tools.sandbox``; what it runs into (an interrupted cell,
a dead kernel, a truncated output, the kernel starting in the sandbox) is recorded through
``course_tools.events``, which logs it and hands it to the grading worker's result file.
"""
from __future__ import annotations

import signal
import time
from queue import Empty

from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from traitlets import Integer

from nbgrader.preprocessors import Execute

from course_tools import events
from course_tools.notebooks import grade_id, joined
from course_tools.sandbox import SandboxedKernelManager


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _output_size(out: NotebookNode) -> int:
    if out.get("output_type") == "stream":
        return len(joined(out.get("text", "")))
    if out.get("output_type") == "error":
        return sum(len(line) for line in out.get("traceback", []))
    return sum(len(joined(v)) if isinstance(v, (str, list)) else len(str(v)) for v in out.get("data", {}).values())


# errors in a cell that say more about the notebook than about the tests: worth a line in the report
TELLING_ERRORS = {
    "MemoryError": "ran out of memory (the kernel's memory limit)",
    "SystemExit": "called sys.exit()",
    "BlockingIOError": "could not start another process or thread (the process limit)",
    "RecursionError": "recursed too deeply",
}


def exit_reason(returncode: int | None) -> str:
    """What a kernel's exit status says (bwrap and timeout report a fatal signal as 128 + its number)."""
    if returncode is None:
        return "the kernel stopped answering"
    if returncode > 128 or returncode < 0:
        number = returncode - 128 if returncode > 128 else -returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hint = {"SIGKILL": " (a resource limit, or the kernel's time limit)", "SIGSEGV": " (a crash)",
                "SIGXCPU": " (the CPU time limit)", "SIGXFSZ": " (the file size limit)"}.get(name, "")
        return f"the kernel was killed by {name}{hint}"
    return f"the kernel exited with status {returncode}" + (" (os._exit?)" if returncode == 0 else "")


class SandboxedExecute(Execute):
    """nbgrader's Execute with sandboxed kernels and caps that keep a notebook from hanging,
    flooding or crashing the grader.

    - The whole notebook has a wall-clock budget (``notebook_timeout``) on top of the per-cell
      ``timeout``: cells it leaves no time for are not run and get an error (no points).
    - A cell that times out is interrupted; if the kernel still does not answer, the remaining
      cells are not run (an endless loop that ignores KeyboardInterrupt).
    - A kernel that dies (``os._exit``, a segfault, a resource limit) fails its cell and the
      cells after it, instead of the whole notebook.
    - Outputs are capped per cell and per notebook; error outputs are always kept.
    Each event is recorded through ``course_tools.events`` (one ``course-grader:`` log line);
    cells are counted from 1, as in the submitted notebook.
    """

    notebook_timeout = Integer(600, help="Wall-clock budget for the whole notebook (s).").tag(config=True)
    max_cell_output_kb = Integer(1024, help="Output kept per cell (KiB); the rest is dropped.").tag(config=True)
    max_notebook_output_kb = Integer(8192, help="Output kept per notebook (KiB).").tag(config=True)
    responsive_seconds = Integer(5, help="How long a kernel may take to answer after an interrupt (s).").tag(
        config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.notebook_timeout
        self._stopped: str | None = None  # why the remaining cells are not run
        self._notebook_output = 0
        # the grader may put cells of its own first: number cells as the student sees them
        self._offset = next((i for i, cell in enumerate(nb.cells) if not events.is_grader_cell(cell)), len(nb.cells))
        return super().preprocess(nb, resources, km)

    async def async_start_new_kernel(self, **kwargs) -> None:
        await super().async_start_new_kernel(**kwargs)
        if isinstance(self.km, SandboxedKernelManager):
            for note in self.km.notes:
                self._event(note)
            if self.km.sandboxed_in:
                events.record(events.SANDBOXED, f"sandboxed kernel in {self.km.sandboxed_in}", self.log)

    start_new_kernel = run_sync(async_start_new_kernel)

    def _event(self, message: str) -> None:
        events.record(events.NOTE, message, self.log)

    def _where(self, cell, index: int) -> str:
        number = index + 1 - self._offset
        name = grade_id(cell)
        return f"cell {number}" + (f" ({name})" if name else "") if number > 0 else "the grader's first cell"

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        if cell is not None and events.is_grader_cell(cell):
            timeout = max(timeout or 0, 120)  # the grader's own cell imports what the tests use
        left = max(1, int(self._deadline - time.monotonic()))
        return left if timeout is None else min(timeout, left)

    async def _async_handle_timeout(self, timeout, cell=None):
        self._timed_out = True
        return await super()._async_handle_timeout(timeout, cell)

    async def _async_responds(self, seconds: float) -> bool:
        msg_id = await ensure_async(self.kc.kernel_info())
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
            except Empty:
                return False
            if msg["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    responds = run_sync(_async_responds)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        where = self._where(cell, index)
        if self._stopped is None and time.monotonic() >= self._deadline:
            self._stopped = f"the notebook ran past its {self.notebook_timeout} s budget"
            self._event(f"{where}: {self._stopped}; this cell and the ones after it were not run")
        if self._stopped is not None:
            cell.outputs = [_error_output("NotRunError", f"not run: {self._stopped}")]
            return cell, resources
        self._timed_out, self._cell_output, self._dropped = False, 0, set()
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            process = getattr(self.km.provisioner, "process", None)
            returncode = process.poll() if process is not None else None
            reason = getattr(self.km, "killed_for", None) or exit_reason(returncode)
            self._stopped = "the kernel died"
            self._event(f"{where}: the kernel died: {reason}; the cells after it were not run")
            cell.outputs = list(cell.get("outputs", [])) + [_error_output("DeadKernelError", reason)]
            return cell, resources
        except CellTimeoutError:  # no output after the interrupt either
            self._timed_out = True
            cell.outputs = list(cell.get("outputs", [])) + [_error_output("CellTimeoutError", "timed out")]
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and out.get("ename") in TELLING_ERRORS:
                self._event(f"{where}: {TELLING_ERRORS[out['ename']]}")
        if self._timed_out:
            self._event(f"{where}: ran past its time limit and was interrupted")
            if not self.responds(self.responsive_seconds):
                self._stopped = "the kernel ignored the interrupt"
                self._event(f"{where}: the kernel did not stop after the interrupt; the cells after it were not run")
        return cell, resources

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or out.get("output_type") == "error" or display_id:
            return out
        size = _output_size(out)
        cell_left = (self.max_cell_output_kb << 10) - self._cell_output
        left = min(cell_left, (self.max_notebook_output_kb << 10) - self._notebook_output)
        if size <= left:
            self._cell_output += size
            self._notebook_output += size
            return out
        outs.remove(out)
        kind = out.get("name") if out.get("output_type") == "stream" else "display"
        if kind not in self._dropped:  # one note per kind, so that stderr still counts as stderr
            self._dropped.add(kind)
            limit = "cell" if left == cell_left else "notebook"
            note = f"\n[output truncated by the grader: over the {limit}'s output limit]\n"
            if out.get("output_type") == "stream" and left > 0:
                note = joined(out["text"])[:left] + note
            outs.append(NotebookNode(output_type="stream", name=out.get("name", "stdout"), text=note))
            self._cell_output += len(note)
            self._notebook_output += len(note)
            self._event(f"{self._where(self.nb.cells[cell_index], cell_index)}: output truncated "
                        f"(over the {limit}'s output limit)")
        return None
