"""What can be checked here of deploy/: the systemd units (systemd-analyze verify, when the machine has it, with
ExecStart pointed at this environment's command), the compose file parsed and its references, the image
definition's sources. Building the image and running compose need a container engine, which the tests do not."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


@pytest.mark.parametrize("path", UNITS, ids=[path.name for path in UNITS])
def test_each_unit_restarts_reads_the_settings_and_runs_as_its_own_user(path: Path) -> None:
    service = unit(path)["Service"]
    assert service["Restart"] == "on-failure" and service["User"] == "broadcaster"
    assert service["EnvironmentFile"].endswith("/.env") and service["ExecStart"].split()[0].endswith("/broadcaster")


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")
    command = str(Path(sys.executable).parent / "broadcaster")
    names = []
    for path in UNITS:
        text = path.read_text(encoding="utf-8").replace("/opt/broadcaster/.venv/bin/broadcaster", command)
        name = path.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(text, encoding="utf-8")
        names.append(name)
    checked = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0 and checked.stderr.strip() == "", checked.stderr


def test_the_compose_file_runs_postgresql_15_then_migrates_then_the_three_roles() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["db"]["image"] == "postgres:15"
    assert set(services) == {"db", "migrate", "web", "scheduler", "worker"}
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on a service that is not there: {needed}"
    for role in ("web", "scheduler", "worker"):
        assert services[role]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[role]["environment"]["BROADCASTER_DATABASE_URL"].startswith("postgresql://")
    assert services["migrate"]["command"] == ["broadcaster", "db", "upgrade"]
    for role in ("migrate", "web", "scheduler", "worker"):
        build = services[role]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == (DEPLOY / "Dockerfile").resolve()


def test_the_image_copies_what_exists_and_checks_its_health() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    root = DEPLOY.parent
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (root / source).exists(), f"the image copies {source}, which is not in the repository"
    assert "/healthz" in dockerfile and "USER broadcaster" in dockerfile
