"""A registry in plain terms, whichever kind of model holds it: what a held and a validated registry are compared by."""

from __future__ import annotations

from typing import Any

from supervisor.config.registry import Registry


def walk(value: Any) -> Any:
    """A model's fields, recursively, in plain terms, whichever kind of model holds them."""
    fields = getattr(type(value), "model_fields", None)
    if fields is None:
        fields = getattr(type(value), "_fields", None)
    if isinstance(fields, dict | tuple) and not isinstance(value, tuple):
        return {"class": type(value).__qualname__, **{name: walk(getattr(value, name)) for name in fields}}
    if isinstance(value, dict):
        return {str(k): walk(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [walk(v) for v in value]
    return repr(value)


def described(registry: Registry) -> dict[str, Any]:
    """The registry's fields and what the daemon asks of it, in plain terms."""
    names = [*registry.listed, "discovered.timer", "other.service", *registry.checks, *registry.pings]
    return {
        "fields": walk(registry),
        "policies": {name: repr(registry.policy(name, discovered=name.startswith("discovered"))) for name in names},
        "unitless": repr(registry.unitless()),
        "probes": repr(registry.probe_specs()),
        "windows": repr(registry.windows()),
        "configured": repr(registry.alerts.configured()),
        "host_port": repr(registry.server.host_port),
        "self_ping_timeout": repr(registry.self_ping.timeout_s if registry.self_ping else None),
        "job_of": repr([registry.job_of(name) for name in names]),
        "ignored": repr([registry.ignored(name) for name in ("apt-daily.timer", "x.timer")]),
    }
