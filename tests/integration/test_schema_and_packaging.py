"""The migrations build exactly the models' schema on both databases, and an installed copy finds its data."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from broadcaster.db import make_engine, schema_is_current, upgrade
from broadcaster.models import Base

ROOT = Path(__file__).resolve().parents[2]


def test_migrations_build_the_schema_the_models_describe(database_url: str) -> None:
    engine = make_engine(database_url)
    assert not schema_is_current(engine)
    upgrade(engine)
    assert schema_is_current(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert {"campaigns", "audit_log", "subscribers", "rules"} <= tables


def test_the_wheel_carries_templates_examples_and_adapters(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("canhbao_broadcaster-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "broadcaster/content/templates/goi-gia-danh/vi/email.html.j2" in names
    assert "broadcaster/content/campaigns/canh-bao-goi-gia-danh-lan-2.yaml" in names
    assert "broadcaster/config/directory/stations.csv" in names
    assert "broadcaster/migrations/versions/0001_initial_schema.py" in names
    assert "channels/sms_dialects/esms.py" in names

    target = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(target)
    probe = (
        "from broadcaster.settings import Settings; from broadcaster.examples import example_campaigns; "
        "print(Settings().templates_dir); print(len(example_campaigns()))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    assert found == [str(target / "broadcaster" / "content" / "templates"), "2"]
