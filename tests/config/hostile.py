"""A corpus of hostile registries: what an attacker or a careless admin could put at the registry's path.

``write_corpus(dir)`` returns (name, path) pairs; every one must be refused with
``file:line: field: message`` (exit 2), quickly, without a traceback, and must
leave a running daemon on its old configuration when sent by SIGHUP.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

GOOD = "scope: user\ndiscover: false\n"

TEXTS: dict[str, str | bytes] = {
    # YAML that tries to run code, or whose constructors raise
    "python-object-apply": 'units: !!python/object/apply:os.system ["echo pwned"]\n',
    "python-name": "units: !!python/name:os.system\n",
    "python-module": "units: !!python/module:os\n",
    "unknown-tag": "scope: !foo bar\n",
    "int-tag-not-int": "resync_every: !!int abc\n",
    "float-tag-not-float": "resync_every: !!float xyz\n",
    "timestamp-tag-not-time": "resync_every: !!timestamp nope\n",
    "binary-tag-not-base64": "scope: !!binary '!!!'\n",
    "set-for-units": "units: !!set {a.timer, b.timer}\n",
    "complex-key": "units:\n  ? [a, b]\n  : {}\n",
    "merge-into-a-number": "defaults:\n  <<: 5\n",
    "merge-undefined-alias": "defaults:\n  <<: *nowhere\n",
    "recursive-alias": "units: &a [*a]\n",
    # blow-ups
    "alias-bomb": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))
    + "units: *i\n",
    "deep-flow-nesting": "units: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep-block-nesting": "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v: 1\n",
    "many-values": "units:\n" + "".join(f"  u{i}.timer: {{}}\n" for i in range(30_000)),
    "long-line": "scope: " + "x" * (1024 * 1024) + "\n",
    # numbers out of range
    "max-stale-inf": "units:\n  a.timer: {max_stale: .inf}\n",
    "max-stale-nan": "units:\n  a.timer: {max_stale: .nan}\n",
    "max-stale-minus-inf": "units:\n  a.timer: {max_stale: -.inf}\n",
    "max-stale-huge-days": "units:\n  a.timer: {max_stale: 99999999999999999999d}\n",
    "max-stale-1e400": "units:\n  a.timer: {max_stale: 1e400}\n",
    "max-stale-1e308": "units:\n  a.timer: {max_stale: 1e308}\n",
    "max-stale-inf-string": "units:\n  a.timer: {max_stale: inf}\n",
    "max-stale-negative": "units:\n  a.timer: {max_stale: -5m}\n",
    "stale-factor-inf": "defaults: {stale_factor: .inf}\n",
    "stale-factor-huge": "defaults: {stale_factor: 1e308}\n",
    "restart-max-huge": "defaults: {restart: {max: 99999999999999999999999}}\n",
    "restart-max-negative": "defaults: {restart: {max: -1}}\n",
    "restart-per-zero": "defaults: {restart: {per: 0}}\n",
    "confirm-huge": "alerts: {confirm: 1e9}\n",
    "output-lines-huge": "defaults: {output_lines: 1000000}\n",
    "port-99999": "server: {listen: '127.0.0.1:99999'}\n",
    "port-zero": "server: {listen: '127.0.0.1:0'}\n",
    "listen-no-port": "server: {listen: '127.0.0.1'}\n",
    "snapshot-ttl-nan": "server: {snapshot_ttl: .nan}\n",
    "retention-inf": "history: {retention: .inf}\n",
    "flapping-nan": "alerts: {flapping: {within: .nan}}\n",
    # wrong shapes and names
    "top-level-scalar": "42\n",
    "top-level-list": "- a\n- b\n",
    "units-list": "units: [1, 2]\n",
    "unit-settings-list": "units:\n  a.timer: {max_stale: [1, 2]}\n",
    "unit-name-shell": "units:\n  'a;rm -rf /.timer': {}\n",
    "unit-name-newline": 'units:\n  "a\\nb.timer": {}\n',
    "unit-name-path": "units:\n  ../../etc/passwd.timer: {}\n",
    "unit-name-10k": "units:\n  " + "a" * 10_000 + ".timer: {}\n",
    "scope-root": "scope: root\n",
    "state-dir-list": "state_dir: [a]\n",
    "duplicate-keys": "scope: user\nscope: system\n",
    "webhook-file-url": "alerts:\n  webhook: [{url: 'file:///etc/passwd'}]\n",
    "tab-indent": "units:\n\ta.timer: {}\n",
    "unclosed-quote": "scope: 'user\n",
    # jobs: nothing may reach a generated unit file but what was meant (no newline, no second directive)
    "job-command-as-shell-string": "jobs:\n  j: {every: 1h, command: 'rm -rf / ; echo'}\n",
    "job-command-newline-injection": 'jobs:\n  j: {every: 1h, command: [/bin/echo, "a\\nExecStartPre=/bin/sh"]}\n',
    "job-name-path": "jobs:\n  ../../etc/x: {every: 1h, command: [/bin/true]}\n",
    "job-name-newline": 'jobs:\n  "a\\nExecStart=/bin/sh": {every: 1h, command: [/bin/true]}\n',
    "job-user-injection": 'jobs:\n  j: {every: 1h, command: [/bin/true], user: "root\\nUser=root"}\n',
    "job-workdir-newline": 'jobs:\n  j: {every: 1h, command: [/bin/true], working_directory: "/srv\\nUser=root"}\n',
    "job-description-newline": 'jobs:\n  j: {every: 1h, command: [/bin/true], description: "x\\nUser=root"}\n',
    "job-schedule-newline": 'jobs:\n  j: {schedule: "daily\\nExecStartPre=/bin/sh", command: [/bin/true]}\n',
    "job-timezone-path": "jobs:\n  j: {schedule: daily, timezone: ../../etc/passwd, command: [/bin/true]}\n",
    "job-header-newline": 'jobs:\n  j: {every: 1h, http: {url: "http://x/", headers: {X-A: "v\\r\\nX-B: w"}}}\n',
    "job-url-newline": 'jobs:\n  j: {every: 1h, http: {url: "http://x/\\nExecStart=/bin/sh"}}\n',
    "job-every-nan": "jobs:\n  j: {every: .nan, command: [/bin/true]}\n",
    "job-retries-huge": "jobs:\n  j: {every: 1h, http: {url: 'http://x/'}, retries: {max: 1e9}}\n",
    "maintenance-duration-inf": "maintenance:\n  - {items: ['*'], schedule: daily, duration: .inf}\n",
    "maintenance-glob-newline": 'maintenance:\n  - {items: ["a\\nb"], schedule: daily, duration: 1h}\n',
    "depends-on-unknown": "units:\n  a.service: {depends_on: [b.service]}\n",
    "self-ping-every-nan": "self_ping: {url_env: X, every: .nan}\n",
    "apprise-no-url": "alerts:\n  apprise: [{}]\n",
    # not UTF-8 text
    "binary-garbage": bytes(random.Random(7).randrange(256) for _ in range(4096)),
    "latin-1": "scope: user\nhost: caf\xe9\n".encode("latin-1"),
    "utf-16": (GOOD + "units: {}\n").encode("utf-16"),
    "nul-byte": b"scope: user\x00\n",
    "control-character": "scope: user\x07\n",
}


def write_corpus(directory: Path) -> list[tuple[str, Path]]:
    """Every hostile registry as a path (files, plus a FIFO, a device, a directory, ...)."""
    directory.mkdir(parents=True, exist_ok=True)
    out: list[tuple[str, Path]] = []
    for name, content in TEXTS.items():
        path = directory / f"{name}.yaml"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        out.append((name, path))
    big = directory / "ten-megabytes.yaml"
    with big.open("w") as fh:
        fh.write("units:\n")
        for i in range(300_000):
            fh.write(f"  unit{i:06d}.timer: {{}}\n")
    out.append(("ten-megabytes", big))
    fifo = directory / "fifo.yaml"
    os.mkfifo(fifo)
    out.append(("fifo", fifo))
    out.append(("dev-zero", Path("/dev/zero")))
    zero_link = directory / "zero-link.yaml"
    zero_link.symlink_to("/dev/zero")
    out.append(("symlink-to-dev-zero", zero_link))
    folder = directory / "a-directory.yaml"
    folder.mkdir()
    out.append(("directory", folder))
    out.append(("missing", directory / "missing.yaml"))
    out.append(("below-a-file", directory / "fifo.yaml" / "below"))
    return out
