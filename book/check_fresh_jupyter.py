"""Run chapters as a learner on Colab or a fresh Jupyter would: without course_lib installed.

Makes a new virtual environment with only torch (which Colab has) and a Jupyter kernel, then
executes each chapter's notebook (``book/<page>.ipynb``, the one the Colab button opens), in
the order given, in a folder outside the repository. The first cell of each must install
what is missing (course_lib from the repository, and the page's packages from the ``[book]``
extra) and the chapter must then run without an error or stderr output. That cell is written
as book/launch.py writes it for a real address, with this checkout's committed HEAD
(``git+file://``) as the address, so what is tested is what is committed, also while the
address in _config.yml is a placeholder:

    .venv/bin/python book/check_fresh_jupyter.py                      # chapters 1 and 7, the appendix
    .venv/bin/python book/check_fresh_jupyter.py 05-attention 08-t5-bart

It needs the package registry (pip installs torch and course_lib's dependencies), so it is a
script, not a test; it prints one line per chapter and exits 1 if any failed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book"))
from launch import as_notebook, with_install_cell  # noqa: E402

KERNEL_PACKAGES = ["torch==2.13.0", "ipykernel", "nbclient", "nbformat"]  # what Colab has before the first cell

RUN = """
import json, sys
import nbclient, nbformat
nb = nbformat.read(sys.argv[1], 4)
try:
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": "."}}).execute()
    error = ""
except Exception as err:  # report it as this chapter's result
    error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1][:200]}"
bad = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error" or o.get("name") == "stderr"]
print(json.dumps({"error": error, "bad_outputs": ["".join(o.get("text", "")) or o.get("ename", "") for o in bad][:3]}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="*", default=["01-rnn-taxonomy", "07-bert", "appendix-korean"],
                        help="book pages to run, in order, in one environment (default: %(default)s)")
    args = parser.parse_args()
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    local = f"file://localhost{ROOT}"  # pip refuses file:/// (no host) in a requirement
    failed = 0
    with tempfile.TemporaryDirectory(prefix="fresh-jupyter-") as scratch:
        env_dir, work = Path(scratch) / "venv", Path(scratch) / "work"
        work.mkdir()
        print(f"a fresh environment in {env_dir}: {' '.join(KERNEL_PACKAGES)}; course_lib from {local}@{head}",
              flush=True)
        venv.create(env_dir, with_pip=True)
        python = env_dir / "bin" / "python"
        subprocess.run([python, "-m", "pip", "install", "--quiet", *KERNEL_PACKAGES], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        environ = {**os.environ, "OMP_NUM_THREADS": "1", "PATH": f"{env_dir / 'bin'}:{os.environ['PATH']}"}
        environ.pop("PYTHONPATH", None)
        for page in args.pages:
            text = (ROOT / "book" / f"{page}.md").read_text(encoding="utf-8")
            notebook = as_notebook(with_install_cell(text, local, head, placeholder=False), ROOT)
            (work / f"{page}.ipynb").write_text(notebook, encoding="utf-8")
            started = time.perf_counter()
            out = subprocess.run([python, "-c", RUN, f"{page}.ipynb"], cwd=work, env=environ, capture_output=True, text=True)
            lines = out.stdout.strip().splitlines()
            result = json.loads(lines[-1]) if out.returncode == 0 and lines else {"error": out.stderr[-300:], "bad_outputs": []}
            ok = not result["error"] and not result["bad_outputs"]
            failed += not ok
            detail = result["error"] or "; ".join(result["bad_outputs"])
            print(f"{page}: {'ran' if ok else 'FAILED'} in {time.perf_counter() - started:.0f} s "
                  f"(installs included){'' if ok else '  ' + detail}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
