"""A local Sphinx extension: each page lists every script once.

Jupyter Book 1.x loads sphinx-thebe, whose configuration script (``const THEBE_JS_URL = ...``)
reaches the page twice under Sphinx 7; a ``const`` declared twice is a JavaScript error in
every reader's console (tests/test_browser.py looks for those).
"""
from __future__ import annotations


def _unique_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[str] = set()
    unique = []
    for script in scripts:
        # file name (None and '' both mean an inline script) and attributes (an inline body among them)
        key = repr((getattr(script, "filename", script) or "", sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", _unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
