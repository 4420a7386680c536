"""The class report: one HTML page per assignment that an instructor can take in at a glance.

After grading, ``class_report/<assignment>.html`` shows, for every graded submission in the
gradebook: the score distribution, each part's pass rate (full points on that graded cell), the
most frequent failure of each test (the error's name and message as the student saw it, never
the hidden test's code), the submissions flagged for review and why, and how long grading took
per notebook. Figures are matplotlib PNGs inside the page: it opens offline, from anywhere.
Flags and times come from the reports of the runs that graded each submission (grading_reports/).
"""
from __future__ import annotations

import base64
import html
import io
import json
import statistics
import time
from collections import Counter
from pathlib import Path

from nbgrader.api import Gradebook

REPORT_DIR = "class_report"
TOP_FAILURES = 3  # failure messages shown per test


def _figure_png(draw) -> str:  # noqa: ANN001 (a function that draws on an Axes)
    """A small matplotlib figure as a data: URI (no file next to the page, nothing from the network)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 2.6), dpi=100, layout="constrained")
    draw(figure.add_subplot())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _failures(root: Path, assignment: str, students: list[str]) -> dict[str, Counter]:
    """grade_id -> how often each failure message ended that test cell, over the graded notebooks."""
    found: dict[str, Counter] = {}
    for student in students:
        for path in sorted((root / "autograded" / student / assignment).glob("*.ipynb")):
            try:
                cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
            except (OSError, ValueError):
                continue
            for cell in cells:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                if meta.get("grade") and not meta.get("solution") and errors:
                    message = f"{errors[0].get('ename', '')}: {errors[0].get('evalue', '')}".strip()
                    found.setdefault(meta.get("grade_id", "?"), Counter())[message.splitlines()[0][:200]] += 1
    return found


def _kept_outcomes(root: Path, reports_dir: str) -> dict[tuple[str, str], dict]:
    """(student, assignment) -> its outcome in the latest run that graded it."""
    latest: dict[tuple[str, str], dict] = {}
    for path in sorted((root / reports_dir).glob("*.json")):
        try:
            outcomes = json.loads(path.read_text(encoding="utf-8")).get("outcomes", [])
        except (OSError, ValueError):
            continue
        for outcome in outcomes:
            if outcome.get("status") == "graded":
                latest[outcome["student"], outcome["assignment"]] = outcome
    return latest


def write(root: Path, course_id: str, db_name: str, reports_dir: str) -> list[Path]:
    """Write class_report/<assignment>.html for every assignment in the gradebook; return the pages."""
    root = Path(root)
    kept = _kept_outcomes(root, reports_dir)
    pages = []
    with Gradebook(f"sqlite:///{root / db_name}", course_id) as gb:
        for assignment in sorted(a.name for a in gb.assignments):
            cells = [c.name for nb in gb.find_assignment(assignment).notebooks for c in nb.grade_cells if c.max_score]
            scores, parts, students = [], {c: [] for c in cells}, []
            max_score = 0.0
            for submission in gb.find_assignment(assignment).submissions:
                students.append(submission.student.id)
                scores.append(submission.score - (submission.late_submission_penalty or 0))
                max_score = submission.max_score
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.name in parts:
                            parts[grade.name].append(grade.score >= grade.max_score)
            if not students:
                continue
            outcomes = [kept[s, assignment] for s in students if (s, assignment) in kept]
            page = root / REPORT_DIR / f"{assignment}.html"
            page.parent.mkdir(exist_ok=True)
            page.write_text(_page(assignment, sorted(students), scores, max_score, parts,
                                  _failures(root, assignment, students), outcomes), encoding="utf-8")
            pages.append(page)
    return pages


def _page(assignment: str, students: list[str], scores: list[float], max_score: float,
          parts: dict[str, list[bool]], failures: dict[str, Counter], outcomes: list[dict]) -> str:
    esc = html.escape
    distribution = _figure_png(lambda ax: (
        ax.hist(scores, bins=min(20, max(5, int(max_score) + 1)), range=(0, max_score or 1), color="#4c72b0"),
        ax.set_xlabel(f"score (of {max_score:g})"), ax.set_ylabel("submissions")))
    rates = {name: sum(passed) / len(passed) for name, passed in parts.items() if passed}
    pass_rates = _figure_png(lambda ax: (
        ax.barh(list(rates)[::-1], [100 * r for r in list(rates.values())[::-1]], color="#55a868"),
        ax.set_xlim(0, 100), ax.set_xlabel("% of submissions with full points")))
    rows = "".join(
        f"<tr><td><code>{esc(name)}</code></td><td>{100 * rates.get(name, 0):.0f} %</td><td>"
        + ("<br>".join(f"{count}× {esc(message)}" for message, count in failures.get(name, Counter()).most_common(TOP_FAILURES))
           or "—") + "</td></tr>" for name in parts)
    flagged = [o for o in outcomes if o.get("flags")]
    flag_rows = "".join(f"<tr><td>{esc(o['student'])}</td><td>{esc('; '.join(o['flags']))}</td></tr>" for o in flagged) \
        or "<tr><td colspan=2>none</td></tr>"
    seconds = [o["seconds"] for o in outcomes if o.get("seconds")]
    timing = (f"median {statistics.median(seconds):.1f} s, slowest {max(seconds):.1f} s, over {len(seconds)} notebooks"
              if seconds else "not measured")
    mean = statistics.mean(scores)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(assignment)}: class report</title>
<style>body {{ font-family: sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }}</style>
</head><body>
<h1>{esc(assignment)}: class report</h1>
<p>{len(students)} graded submissions; mean score {mean:.1f} of {max_score:g}, median {statistics.median(scores):g};
{sum(s >= max_score for s in scores)} with full marks. Written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.</p>
<h2>Score distribution</h2><img alt="Histogram of the scores of {len(students)} submissions" src="{distribution}">
<h2>Each part</h2><img alt="Share of submissions with full points, per graded cell" src="{pass_rates}">
<table><tr><th>graded cell</th><th>full points</th><th>most frequent failures (the message the student saw)</th></tr>{rows}</table>
<h2>Flagged for review</h2><table><tr><th>student</th><th>why</th></tr>{flag_rows}</table>
<h2>Grading time</h2><p>{timing}.</p>
</body></html>
"""
