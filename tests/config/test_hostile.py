"""Hostile registries: each is refused with file:line: field: message, exit 2, quickly, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from supervisor.config.errors import RegistryError
from supervisor.config.loader import load_registry

from .hostile import TEXTS, write_corpus

REPO = Path(__file__).resolve().parents[2]
SPECIALS = ["ten-megabytes", "fifo", "dev-zero", "symlink-to-dev-zero", "directory", "missing", "below-a-file"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return dict(write_corpus(tmp_path_factory.mktemp("hostile")))


def test_the_corpus_is_large_enough(corpus: dict[str, Path]) -> None:
    assert len(corpus) >= 50


@pytest.mark.parametrize("name", [*TEXTS, *SPECIALS])
def test_validate_refuses_it_with_a_line_and_no_traceback(name: str, corpus: dict[str, Path]) -> None:
    path = corpus[name]
    started = time.monotonic()
    r = subprocess.run(
        [sys.executable, "-m", "supervisor", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
    )
    took = time.monotonic() - started
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"{path}:") and first.split(":")[1].isdigit(), first
    assert len(first.split(": ", 2)) == 3, first  # file:line: field: message
    assert took < 5.0, f"{name} took {took:.1f}s"  # a bound on hanging, not a speed measurement


@pytest.mark.parametrize("name", list(TEXTS))
def test_the_loader_itself_raises_only_registry_errors(name: str, corpus: dict[str, Path]) -> None:
    with pytest.raises(RegistryError) as caught:
        load_registry(corpus[name])
    assert all(e.startswith(f"{corpus[name]}:") for e in caught.value.errors)


@pytest.mark.parametrize(
    ("name", "line", "fragment"),
    [
        ("python-object-apply", 1, "could not determine a constructor for the tag"),
        ("int-tag-not-int", 1, "cannot read this tag:yaml.org,2002:int value"),
        ("complex-key", 2, "unhashable"),
        ("merge-into-a-number", 2, "expected a mapping or list of mappings for merging"),
        ("alias-bomb", 5, "more than 50000 values once aliases expand"),  # the anchor whose expansion is too big
        ("deep-flow-nesting", 1, "nested deeper than 32 levels"),
        ("recursive-alias", 1, "nested deeper than 32 levels (aliases)"),
        ("max-stale-inf", 2, "finite"),
        ("max-stale-huge-days", 2, "longer than ten years"),
        ("stale-factor-huge", 1, "less than or equal to 1000"),
        ("port-99999", 1, "port 99999 is not between 1 and 65535"),
        ("latin-1", 2, "not UTF-8 text: byte 0xe9"),
        ("utf-16", 1, "not UTF-8 text (UTF-16?)"),
        ("nul-byte", 1, "special characters are not allowed"),
        ("ten-megabytes", 1, "at most 1048576 are read"),
        ("fifo", 1, "it is not a regular file"),
        ("dev-zero", 1, "it is not a regular file"),
        ("directory", 1, "it is a directory"),
        ("missing", 1, "No such file or directory"),
    ],
)
def test_it_says_what_is_wrong_and_where(name: str, line: int, fragment: str, corpus: dict[str, Path]) -> None:
    with pytest.raises(RegistryError) as caught:
        load_registry(corpus[name])
    first = caught.value.errors[0]
    assert first.startswith(f"{corpus[name]}:{line}: ") and fragment in first, first
