"""The ``missionctl`` command's entry point.

``missionctl run`` is the daemon: it holds its registry and never validates one itself
(a child does, ``config/vetted.py``), so its models are records and the validator is never
loaded (``config/schema.py``). That is settled here, before any model is defined.
"""

from __future__ import annotations

import sys


def main() -> int:
    """``missionctl``."""
    if sys.argv[1:2] == ["run"]:
        from supervisor.config import schema

        schema.hold_only()
    from supervisor.cli.main import main as cli

    return cli()
