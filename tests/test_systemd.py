"""The shipped systemd units, installed by `syncd install-service`, checked by systemd itself."""

import re
import shutil
import subprocess
import sys

import pytest

from syncd.cli_daemon import UNITS

analyze = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(analyze is None, reason="systemd-analyze is not installed")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    dest = tmp_path_factory.mktemp("units")
    done = subprocess.run([sys.executable, "-m", "syncd", "install-service", "--dest", str(dest)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return dest


def test_install_service_copies_every_unit_pointing_at_this_syncd(installed):
    assert sorted(p.name for p in installed.iterdir()) == sorted(UNITS)
    for name in UNITS:
        text = (installed / name).read_text()
        for line in text.splitlines():
            if line.startswith("ExecStart="):
                assert line.split("=", 1)[1].startswith("/"), line  # an absolute path
    assert "--config %h/.config/syncd/%i.yaml run" in (installed / "syncd@.service").read_text()
    service = (installed / "syncd.service").read_text()
    for setting in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "NoNewPrivileges=yes",
                    "PrivateTmp=yes", "ProtectSystem=strict", "ProtectHome=read-only",
                    "ReadWritePaths=", "RestrictAddressFamilies=", "SystemCallFilter=@system-service"):
        assert setting in service


@needs_systemd
@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verify_passes(installed, name):
    unit = installed / name
    if name.endswith("@.service"):
        unit = installed / "syncd@work.service"
        shutil.copy(installed / name, unit)
    done = subprocess.run([analyze, "verify", "--man=no", str(unit)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


@needs_systemd
@pytest.mark.parametrize("name", ["syncd.service", "syncd-sync.service"])
def test_exposure_is_at_most_5(installed, name):
    done = subprocess.run([analyze, "security", "--offline=true", "--no-pager", str(installed / name)],
                          capture_output=True, text=True, timeout=60)
    level = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout).group(1))
    assert level <= 5.0
