"""Property tests: whatever text or structure the registry holds, the loader answers Registry or RegistryError."""

from __future__ import annotations

import math
import re

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervisor.config.durations import MAX_SECONDS, parse_duration
from supervisor.config.errors import RegistryError
from supervisor.config.loader import parse_registry
from supervisor.config.registry import Registry

ERROR = re.compile(r"^f\.yaml:\d+: \S.*: .+$")
FIELDS = [
    "scope", "state_dir", "discover", "ignore", "resync_every", "defaults", "units", "alerts", "server", "history",
    "stale_factor", "restart", "max", "per", "backoff", "after", "on_stale", "on_hung", "anomalies", "output_lines",
    "max_stale", "min_runtime", "max_runtime", "critical", "listen", "token_env", "snapshot_ttl", "confirm",
    "settle", "flapping", "changes", "within", "webhook", "url", "email", "to", "from", "a.timer", "b.service",
]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["1h", "90s", "-5m", "inf", ".nan", "99999999999d", "127.0.0.1:99999", "alert", "stop"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=25,
)
documents = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)


def answer(text: str) -> Registry | RegistryError:
    try:
        return parse_registry(text, "f.yaml")
    except RegistryError as exc:
        return exc


def check(result: Registry | RegistryError) -> None:
    if isinstance(result, RegistryError):
        assert result.errors
        for line in result.errors:
            assert ERROR.match(line), line


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_structure_is_a_registry_or_errors_with_a_line(doc: dict[str, object]) -> None:
    check(answer(yaml.safe_dump(doc, allow_unicode=True)))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_a_registry_or_errors_with_a_line(text: str) -> None:
    check(answer(text))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.booleans(), st.none()))
def test_a_duration_is_finite_and_bounded_or_refused(value: object) -> None:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        assert str(exc)
        return
    assert math.isfinite(seconds) and 0 <= seconds <= MAX_SECONDS


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["max_stale", "min_runtime", "max_runtime"]), scalars, min_size=1))
def test_a_unit_accepted_has_finite_bounds(spec: dict[str, object]) -> None:
    result = answer(yaml.safe_dump({"units": {"a.timer": spec}}))
    if isinstance(result, Registry):
        unit = result.units["a.timer"]
        for value in (unit.max_stale, unit.min_runtime, unit.max_runtime):
            assert value is None or (math.isfinite(value) and 0 < value <= MAX_SECONDS)
    else:
        check(result)
