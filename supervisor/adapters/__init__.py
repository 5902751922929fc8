"""Thin adapters between the pure core and the outside world."""

from __future__ import annotations

import importlib.util
import sys
import types


def _lean_pystemd() -> None:
    """Load pystemd's C modules (dbuslib, dbusexc, daemon) without its package ``__init__``.

    That ``__init__`` imports pystemd's whole object API (systemd1, machine1) and lxml for
    D-Bus introspection, none of which is used here: 4.1 MB of the daemon's RSS (measured,
    pystemd 0.15.3). The package is registered as an empty namespace over the same directory;
    a process that imported pystemd already is left as it is.
    """
    if "pystemd" in sys.modules:
        return
    spec = importlib.util.find_spec("pystemd")
    if spec is None or not spec.submodule_search_locations:
        return
    package = types.ModuleType("pystemd", "pystemd's compiled modules (its __init__ is not run)")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    sys.modules["pystemd"] = package


_lean_pystemd()
