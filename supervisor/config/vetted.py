"""A registry validated in a child process and held here: the daemon never loads the validator (``schema``).

``read_vetted(path)`` runs ``python -m supervisor.config.vetted PATH``: the child reads and
validates the file with ``loader.load_registry``, as every other reader does, and writes
back the registry, pickled, or the loader's errors (``file:line: field: message``). Here
the registry is unpickled into this process's models: records where it ``hold_only()``s,
pydantic models otherwise. The stream may name only the registry's own classes (its models,
the core's enums and windows) and the plain values they hold; anything else is refused.
"""

from __future__ import annotations

import enum
import io
import pickle
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supervisor.config.errors import RegistryError

if TYPE_CHECKING:
    from supervisor.config.registry import Registry

#: How long the child may take, its interpreter's start included (the loader bounds its own work far below).
VETTED_TIMEOUT_S = 30.0
#: The modules whose classes a vetted registry is made of.
_OWN = ("supervisor.config.", "supervisor.core.")
#: The plain values beside them: what a registry's fields hold.
_PLAIN = {("pathlib", "PosixPath")}  # sets, tuples and the rest are the protocol's own opcodes


def read_vetted(path: Path, *, user: bool = False, timeout: float = VETTED_TIMEOUT_S) -> Registry:
    """The registry at ``path``, validated by a child; RegistryError (its ``file:line`` errors) otherwise.

    With ``user``, its scope is user whatever the file says (``--user``).
    """
    argv = [sys.executable, "-P", "-m", __name__, str(path), *(["--user"] if user else [])]
    try:  # an argument vector, no shell; -P: the working directory is not searched for modules
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RegistryError([f"{path}:1: (file): not validated within {timeout:g}s"]) from None
    except OSError as exc:
        raise RegistryError([f"{path}:1: (file): the validator could not start: {exc}"]) from None
    if done.returncode != 0 or not done.stdout:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        last = f": {said[-1][:300]}" if said else ""
        raise RegistryError([f"{path}:1: (file): the validator failed (exit {done.returncode}){last}"])
    return _verdict(path, done.stdout)


def _verdict(path: Path, stream: bytes) -> Registry:
    """The child's answer: the registry it validated, or its errors raised as a RegistryError."""
    try:
        verdict, value = _Unpickler(io.BytesIO(stream)).load()
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError, AttributeError, ImportError) as exc:
        raise RegistryError([f"{path}:1: (file): the validator's answer cannot be read: {exc}"]) from None
    from supervisor.config.registry import Registry  # the models, of this process's kind (schema.py)

    if verdict == "rejected" and isinstance(value, list):
        raise RegistryError([str(line) for line in value])
    if verdict != "ok" or not isinstance(value, Registry):
        raise RegistryError([f"{path}:1: (file): the validator's answer is not a registry"])
    return value


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _PLAIN:
            return super().find_class(module, name)
        if (module, name) == ("builtins", "getattr"):  # how some Pythons pickle an enum member: by its name
            return _member
        if module.startswith(_OWN):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"a registry does not hold {module}.{name}")


def _member(kind: object, name: object) -> enum.Enum:
    """``getattr(kind, name)`` for what it stands for in a registry: a member of one of its enums, nothing else."""
    if isinstance(kind, type) and issubclass(kind, enum.Enum) and isinstance(name, str) and name in kind.__members__:
        return kind.__members__[name]
    raise pickle.UnpicklingError(f"a registry does not hold {getattr(kind, '__name__', kind)!r}.{name!r}")


def _child(argv: list[str]) -> int:
    """Validate the registry at ``argv[0]`` and write the verdict, pickled, to standard output."""
    from supervisor.config.loader import load_registry

    path = Path(argv[0])
    try:
        registry = load_registry(path)
    except RegistryError as exc:
        verdict: tuple[str, object] = ("rejected", exc.errors)
    else:
        if "--user" in argv[1:] and registry.scope != "user":
            registry = registry.model_copy(update={"scope": "user"})
        verdict = ("ok", registry)
    sys.stdout.buffer.write(pickle.dumps(verdict, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1:]))
