"""Grading each part of an assignment on its own.

An assignment's later part often calls a helper the learner wrote in an earlier part
(``dot_attention`` calls ``masked_softmax``). If the later part's tests ran the learner's
helper, one wrong helper would cost every part that uses it. Instead, a later part's test
runs the learner's code with the *reference* helper in its place (``reference_parts``), so a
mistake costs the part where it was made. Where a part cannot be separated from an earlier
one (a training run of the learner's own model), ``requires_part`` checks the earlier part
first and, if it is wrong, says that this is why the later part fails.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def reference_parts(namespace: dict[str, Any], **references: Any) -> Iterator[None]:
    """Within the block, each ``namespace[name]`` is the given reference; the learner's come back after.

    ``namespace`` is the notebook's ``globals()``: functions and methods defined in the
    notebook look their helpers up there at call time, so they call the reference.
    """
    if not isinstance(namespace, dict):
        raise TypeError(f"reference_parts needs the notebook's globals() dict, not {type(namespace).__name__}")
    missing = object()
    saved = {name: namespace.get(name, missing) for name in references}
    namespace.update(references)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def requires_part(check: Callable[[], object], *, earlier: str, this: str) -> None:
    """Run ``check`` (a test of an earlier part); if it fails, fail saying ``this`` part depends on it.

    The AssertionError names the earlier part and what its check said, so the feedback of a
    part that fails because of an earlier one points at the cause instead of a symptom.
    """
    try:
        check()
    except Exception as err:  # any failure of the earlier part's check, reported as this part's cause
        raise AssertionError(
            f"{this} uses your {earlier}, which does not pass its check ({type(err).__name__}: {err}); "
            f"fix {earlier} first, then run this part's tests again"
        ) from None
