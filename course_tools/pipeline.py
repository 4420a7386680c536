"""nbgrader's steps for this course: what nbgrader_config.py plugs in, assembled in one place.

Autograding sanitizes the notebook (nbgrader's steps, then the integrity guard around every
test cell), executes it (``SandboxedExecute`` in place of nbgrader's ``Execute``, then the
guard's check) and scores it; feedback hides the hidden tests. This is the only module that
imports both the execution and the guard, so a change of how tests are run and judged (the
guard replaced by tests run outside the student's kernel) is a change of these lists.
"""
from __future__ import annotations

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor

from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute, GetGrades

from course_tools.execute import SandboxedExecute
from course_tools.feedback import HideHiddenTests
from course_tools.integrity import IntegrityCheck, IntegrityGuard


def sanitize_preprocessors() -> list[type]:
    """nbgrader's sanitizing steps, then the integrity guard wrapped around every test cell."""
    return [*Autograde.class_traits()["sanitize_preprocessors"].default(), IntegrityGuard]


def autograde_preprocessors() -> list[type]:
    """nbgrader's autograde steps with Execute replaced by SandboxedExecute and the integrity check after it."""
    steps: list[type] = []
    for step in Autograde.class_traits()["autograde_preprocessors"].default():
        steps += [SandboxedExecute, IntegrityCheck] if step is Execute else [step]
    return steps


def feedback_preprocessors() -> list[type]:
    """generate_feedback's steps: the scores, the page's style, and no hidden test in what students see."""
    return [GetGrades, CSSHTMLHeaderPreprocessor, HideHiddenTests]
