"""What a registry reader says when a registry cannot be used, and where the daemon keeps the one it runs with."""

from __future__ import annotations

#: The daemon's copy of the registry it runs with, in its state directory.
ACTIVE_REGISTRY = "registry.active.yaml"


class RegistryError(Exception):
    """The registry could not be used; ``errors`` holds one line per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
