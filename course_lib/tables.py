"""Small HTML tables for notebook outputs: columns stay aligned whatever the script (Hangul,
Latin, digits), where padded text drifts, and a wide table wraps instead of scrolling."""
from __future__ import annotations

import html
from typing import Sequence

from IPython.display import HTML


def html_table(header: Sequence[object], rows: Sequence[Sequence[object]]) -> HTML:
    """A table with one header row; every cell is shown as ``str(cell)``, HTML-escaped."""
    width = len(header)
    for i, row in enumerate(rows):
        if len(row) > width:
            raise ValueError(f"row {i} has {len(row)} cells but the header has {width}: {list(row)!r}")

    def cells(tag: str, row: Sequence[object]) -> str:
        return "".join(f"<{tag}>{html.escape(str(cell))}</{tag}>" for cell in row)

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return HTML(f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>")
