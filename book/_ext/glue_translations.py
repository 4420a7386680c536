"""Glued numbers in translated paragraphs: a {glue:text} role in a Korean message finds its value.

myst-nb looks a glue key up in the notebook renderer of the document being parsed, which it
keeps only while it parses the page. Sphinx translates a page after that, parsing each
translated paragraph on its own, where no key is known ("No key 'steps_all' found in glue data
for this document"). This extension remembers each page's glue values, by page, when the page
itself is parsed (the English text quotes every key the translation may quote), and looks a key
up there when the paragraph being parsed has none.
"""
from __future__ import annotations

from typing import Any

from myst_nb.ext.glue import directives, roles, utils
from sphinx.application import Sphinx

_original = utils.retrieve_glue_data
_renderers: dict[str, Any] = {}  # docname -> the page's notebook renderer (its glue values)


def _docname(document) -> str | None:  # noqa: ANN001 (a docutils document)
    env = getattr(document.settings, "env", None)
    return getattr(env, "docname", None)


def retrieve_glue_data(document, key: str):  # noqa: ANN001, ANN201 (myst-nb's signature)
    """myst-nb's lookup, falling back to the values the page had when it was parsed."""
    name = _docname(document)
    renderer = document.get("nb_renderer") if "nb_renderer" in document else None
    if renderer is not None and name and key in renderer.renderer.nb_client.glue_data:
        _renderers[name] = renderer  # the page itself: remember its values
        return _original(document, key)
    if name in _renderers and key in _renderers[name].renderer.nb_client.glue_data:
        held = document.get("nb_renderer") if "nb_renderer" in document else None
        document["nb_renderer"] = _renderers[name]
        try:
            return _original(document, key)
        finally:
            if held is None:
                del document["nb_renderer"]
            else:
                document["nb_renderer"] = held
    return _original(document, key)


def setup(app: Sphinx) -> dict[str, Any]:
    for module in (utils, roles, directives):
        module.retrieve_glue_data = retrieve_glue_data
    return {"parallel_read_safe": True, "parallel_write_safe": True}
