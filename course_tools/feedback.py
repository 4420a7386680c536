"""Feedback without hidden tests: the preprocessor of ``nbgrader generate_feedback``.

``HideHiddenTests`` removes the hidden tests from test cells, keeps only the error's name and
message of a failed test (a traceback quotes the line that failed), and redacts any line of a
hidden test that the notebook's own code printed anywhere. A notebook flagged for manual
review while its tests ran (``course_tools.integrity.IntegrityCheck``) gets no outputs back
but the names of its errors: its code may have recorded the tests to print them in a form no
redaction recognises.
"""
from __future__ import annotations

import html
import importlib.metadata
import os
import re
import sys
import time
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from traitlets import Bool

from nbgrader import utils
from nbgrader.api import Gradebook

from course_tools.notebooks import hidden_lines, without_hidden_tests

WITHHELD = ("**This notebook is flagged for manual review**: while it was graded, its code interfered with the "
            "tests. Its outputs are not shown here, only which cells raised which error; "
            "your instructor will look at it.")


SANDBOX_HOME = "/tmp"  # HOME inside the grading sandbox (course_tools.sandbox)


def machine_paths() -> list[tuple[str, str]]:
    """Folders of the grading machine a traceback may quote (the Python environment, the
    working folder, the home folder): replaced in feedback by a short name, longest first."""
    found = {}
    for name, path in (("<python>", sys.prefix), ("<python>", sys.base_prefix), ("<course>", os.getcwd()),
                       ("<home>", str(Path.home()))):
        for form in {path, str(Path(path).resolve())}:
            if len(form) > 1:
                found[form] = name
            if form.startswith(SANDBOX_HOME + "/"):  # IPython writes the kernel's home (/tmp) as ~
                found["~" + form[len(SANDBOX_HOME):]] = name
    return sorted(found.items(), key=lambda item: len(item[0]), reverse=True)


def part_titles(cells: list) -> dict[str, str]:
    """grade_id of each cell -> the title of the part it belongs to: the last '## ' heading above it."""
    titles, current = {}, ""
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            headings = [line[3:].strip() for line in cell.get("source", "").splitlines() if line.startswith("## ")]
            current = headings[-1] if headings else current
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            titles[grade_id] = current
    return titles


def header(student: str, assignment: str, grades: list[tuple[str, float, float]], titles: dict[str, str]) -> str:
    """The first cell of a student's feedback: who, what, when, and each test's part and points."""
    total, most = sum(g[1] for g in grades), sum(g[2] for g in grades)
    rows = "\n".join(f"| {titles.get(name, '')} | `{name}` | {score:g} / {max_score:g} |"
                     for name, score, max_score in grades)
    return (f"**Feedback for {student}** on **{assignment}**, graded {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
            f"**{total:g} / {most:g}** points.\n\n| part | test | points |\n| --- | --- | --- |\n{rows}\n\n"
            "Each part is graded on its own: a test that failed because an earlier part is wrong says so in its message.")


class HideHiddenTests(Preprocessor):
    """Feedback step: no hidden-test source in what students get back; a notebook flagged for
    manual review (IntegrityCheck) gets its sources, grades and the names of its errors back, not its outputs."""

    withhold = False

    enabled = Bool(True, help="Whether to hide hidden tests in feedback "
                   "(nbconvert's preprocessors start disabled).").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            secret = {line for cell in notebook.source_cells for line in hidden_lines(cell.source or "")}
            # flagged by IntegrityCheck: its code interfered with the tests, and may have recorded them
            # (an IPython callback sees every cell's source) to print later, in any encoding
            submitted = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
            self.withhold = submitted.flagged
            grades = [(g.name, g.score, g.max_score) for g in submitted.grades if g.max_score]
        order = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(nb.cells)}
        grades.sort(key=lambda g: order.get(g[0], len(order)))
        nb.cells.insert(0, NotebookNode(cell_type="markdown", id="grader-header", metadata={},
                                        source=header(info["student"], info["assignment"], grades,
                                                      part_titles(nb.cells))))
        self.paths = machine_paths()
        if self.withhold:
            nb.cells.insert(0, NotebookNode(cell_type="markdown", id="grader-withheld", metadata={}, source=WITHHELD))
        secret |= {line for cell in nb.cells for line in hidden_lines(cell.source)}
        # lines that also appear outside the hidden regions (e.g. "else:") give nothing away
        visible = {line.strip() for cell in nb.cells for line in without_hidden_tests(cell.source).splitlines()}
        self.secret = sorted((s for s in secret - visible if len(s) >= 8), key=len, reverse=True)
        return super().preprocess(nb, resources)

    def _redact(self, text: str) -> str:
        for path, name in self.paths:
            text = text.replace(path, name)
        for line in self.secret:
            for form in (line, html.escape(line), html.escape(line, quote=False)):
                if form in text:
                    text = text.replace(form, "[hidden test line]")
        return text

    def preprocess_cell(self, cell, resources, index):
        test = utils.is_grade(cell) and cell.cell_type == "code"
        cell.source = without_hidden_tests(cell.source)
        if self.withhold and cell.cell_type == "code":  # which cells failed, nothing the notebook could word
            cell.outputs = [NotebookNode(output_type="error", ename=out.get("ename", ""), evalue="",
                                         traceback=[out.get("ename", "")])
                            for out in cell.get("outputs", []) if out.get("output_type") == "error"]
            return cell, resources
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["ename"], out["evalue"] = out.get("ename", ""), self._redact(out.get("evalue", ""))
                if test:  # a traceback quotes the test line that failed
                    out["traceback"] = [f"{out['ename']}: {out['evalue']}"]
                else:
                    out["traceback"] = [self._redact(line) for line in out.get("traceback", [])]
            elif out.get("output_type") == "stream":
                out["text"] = self._redact(out.get("text", ""))
            elif "data" in out:
                for mime, value in out["data"].items():
                    if isinstance(value, str) and not mime.startswith("image/"):
                        out["data"][mime] = self._redact(value)
                    elif isinstance(value, list):
                        out["data"][mime] = [self._redact(v) if isinstance(v, str) else v for v in value]
        return cell, resources


# nbconvert's page loads MathJax 2 from a CDN; a student reading feedback offline sees raw TeX.
# The page instead loads MathJax 3's self-contained SVG build from the student's own folder,
# feedback/<student>/mathjax/tex-svg.js (copied from sphinx-mathjax-offline, which the book uses).
CDN_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
LOCAL_MATHJAX = """<script>
window.MathJax = {tex: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
                        processEscapes: true, tags: "ams"}, svg: {fontCache: "global"}};
</script>
<script src="../mathjax/tex-svg.js"></script>"""
MATHJAX_FOLDER = "mathjax"


def mathjax_file() -> Path | None:
    """MathJax 3's SVG build as sphinx-mathjax-offline ships it (None if that is not installed)."""
    try:
        path = Path(importlib.metadata.distribution("sphinx-mathjax-offline").locate_file(
            "sphinx-mathjax-offline/static/mathjax/tex-svg.js"))
    except importlib.metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


def offline_math(student_folder: Path) -> None:
    """Make the feedback pages in feedback/<student>/<assignment>/ render math without a network."""
    source = mathjax_file()
    if source is None:
        return
    pages = sorted(Path(student_folder).glob("*/*.html"))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if CDN_MATHJAX.search(text):
            page.write_text(CDN_MATHJAX.sub(lambda _: LOCAL_MATHJAX, text, count=1), encoding="utf-8")
    target = Path(student_folder) / MATHJAX_FOLDER / source.name
    if pages and not target.is_file():
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(source.read_bytes())
