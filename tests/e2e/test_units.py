"""Static checks of what gets installed: unit hardening score, shell scripts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_service_unit_is_hardened_to_ok() -> None:
    out = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(REPO / "units/missionctl.service")],
        capture_output=True,
        text=True,
    )
    found = re.search(r"Overall exposure level for missionctl.service: ([\d.]+) (\w+)", out.stdout)
    assert found is not None, out.stdout + out.stderr
    assert float(found.group(1)) <= 2.5 and found.group(2) == "OK", found.group(0)


def test_the_shell_scripts_are_shellcheck_clean_and_short() -> None:
    scripts = [REPO / "scripts/heartbeat-fallback.sh", REPO / "install.sh", REPO / "scripts/test.sh"]
    out = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout
    fallback = (REPO / "scripts/heartbeat-fallback.sh").read_text().splitlines()
    assert len(fallback) <= 40
    code = [line for line in fallback if not line.lstrip().startswith("#")]
    assert not any(re.search(r"\bpython", line) for line in code)  # never depends on Python or the venv


def test_the_units_reference_what_install_sh_installs() -> None:
    install = (REPO / "install.sh").read_text()
    service = (REPO / "units/missionctl.service").read_text()
    assert "/opt/missionctl/venv/bin/missionctl run" in service and "prefix=/opt/missionctl" in install
    assert "ExecStart=/opt/missionctl/heartbeat-fallback.sh" in (REPO / "units/missionctl-fallback.service").read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=30s",
        "Restart=on-failure",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "StateDirectory=missionctl",
        "ConfigurationDirectory=missionctl",
        "CapabilityBoundingSet=",
    ):
        assert line + "\n" in service, line
