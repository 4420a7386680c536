"""Save a benchmark's numbers as JSON beside the scripts, with where and when they were measured.

The book quotes these files (``benchmarks/results/<name>.json``) instead of retyping numbers:
re-run the script with ``--save`` and the next build of the book shows the new ones.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def describe_device(device: torch.device) -> str:
    """The device in words: the GPU's name, or the CPU with its core count and torch threads."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch thread(s))"
    return str(device)


def save(name: str, device: torch.device, rows: list[dict], **extra) -> Path:
    """Write ``results/<name>.json``: the rows plus the command, device, date and versions."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {
        "benchmark": name,
        "command": " ".join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]]),
        "device": describe_device(device),
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__,
        "load_average": round(os.getloadavg()[0], 2),
        **extra,
        "rows": rows,
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
