"""Autograde one student's assignment and write its feedback, in one process.

    python -m course_tools.grade_worker ASSIGNMENT STUDENT [--Section.option=value ...]

Run by course_tools.grading inside a scratch course (the working directory holds
nbgrader_config.py, gradebook.db and submitted/STUDENT/ASSIGNMENT/). It does what
``nbgrader autograde`` and then ``nbgrader generate_feedback`` do, through nbgrader's own
API and configuration, but pays for starting Python and importing nbgrader once. The log
goes to stdout; the exit status is 0 when both steps worked, 1 when autograding failed and
3 when only the feedback did.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    assignment, student, *options = argv
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="[%(levelname)s] %(message)s", force=True)
    from nbgrader.apps.api import NbGraderAPI
    from traitlets.config.loader import KVArgParseConfigLoader, PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(Path.cwd())).load_config()
    config.merge(KVArgParseConfigLoader(argv=options).load_config())
    config.Exchange.root = str(Path.cwd() / "exchange")  # no exchange here; keeps nbgrader from looking for one
    api = NbGraderAPI(config=config)
    for step, status in ((api.autograde, 1), (api.generate_feedback, 3)):
        result = step(assignment, student)
        if not result["success"]:
            print(result.get("error") or "", flush=True)
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
