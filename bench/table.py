"""The figures of ``bench/results.json`` as a Markdown table (for the README).

python -m bench.table [PATH]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.__main__ import number, targets


def table(doc: dict[str, object]) -> str:
    """Every figure, then every target with its verdict, under the machine and commit they came from."""
    figures: dict[str, float] = doc["figures"]  # type: ignore[assignment]
    machine: dict[str, object] = doc["machine"]  # type: ignore[assignment]
    commit = str(doc["commit"])
    commit = commit[:12] + ("+changes" if commit.endswith("+changes") else "")
    lines = [
        f"Measured {str(doc['measured_at'])[:10]} at commit `{commit}` on {machine['cpus']} CPUs "
        f"({machine['cpu']}), {machine['memory_gib']} GiB, kernel {machine['kernel']}, Python {machine['python']}, "
        f"systemd {machine['systemd']}.",
        "",
        "| figure | value |",
        "|---|---:|",
        *(f"| {key.replace('|', '/')} | {number(value)} |" for key, value in figures.items()),
        "",
        "| target | measured | target | |",
        "|---|---:|---|---|",
        *(
            f"| {label} | {number(value)} | {target} | {'met' if met else '**not met**'} |"
            for label, value, target, met in targets(figures)
        ),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("results.json")
    print(table(json.loads(path.read_text())))
