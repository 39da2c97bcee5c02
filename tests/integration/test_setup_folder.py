"""`broadcaster setup FOLDER`, run as a department's IT person runs it (a process of its own, no terminal):
the settings with a secret, the database, the templates, the first administrator and the one-time link;
then `broadcaster serve` from the folder, the password chosen through the link, and the sign-in."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.helpers import free_port, wait_for
from tests.moment import broadcaster_command, subprocess_environment

PASSWORD = "mật-khẩu-quản-trị"


def environment() -> dict[str, str]:
    """The machine's environment without any broadcaster setting: the folder's .env is all there is."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("BROADCASTER_")}
    return subprocess_environment(clean)


def setup(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        broadcaster_command("setup", str(folder), *args),
        env=environment(),
        cwd=folder.parent,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def answered(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.TransportError:
        return None


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, html[:500]
    return found.group(1)


def test_a_folder_is_set_up_and_its_administrator_finishes_in_the_browser(tmp_path: Path) -> None:
    folder = tmp_path / "so-tttt"
    port = free_port()
    made = setup(folder, "--admin", "Quản Trị", "--public-url", f"http://127.0.0.1:{port}")
    assert made.returncode == 0, made.stdout + made.stderr
    settings = (folder / ".env").read_text(encoding="utf-8")
    secret = re.search(r"^BROADCASTER_SECRET_KEY=(\S+)$", settings, re.MULTILINE)
    assert secret and len(secret.group(1)) >= 32
    assert secret.group(1) not in made.stdout + made.stderr
    assert stat.S_IMODE((folder / ".env").stat().st_mode) == 0o600
    assert (folder / "var" / "broadcaster.db").is_file()
    assert (folder / "content" / "templates" / "goi-gia-danh").is_dir()
    link = re.search(r"(http://127\.0\.0\.1:\d+/chao-mung/\S+)", made.stdout)
    assert link, made.stdout
    assert f"cd {folder} && broadcaster run --web" in made.stdout

    server = subprocess.Popen(
        broadcaster_command("serve", "--port", str(port)),
        env=environment(),
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: answered(f"http://127.0.0.1:{port}/login"), what="the console to answer")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as browser:
            page = browser.get(link.group(1))
            assert page.status_code == 200 and "quản trị" in page.text
            short = browser.post(link.group(1), data={"csrf_token": form_token(page.text), "password": "ngan"})
            assert short.status_code == 422 and "Mật khẩu quá ngắn" in short.text
            chosen = browser.post(
                link.group(1),
                data={"csrf_token": form_token(page.text), "password": PASSWORD, "password_again": PASSWORD},
            )
            assert chosen.status_code == 303 and chosen.headers["location"] == "/login?welcomed=1"
            again = browser.get(link.group(1))
            assert again.status_code == 404 and "không còn dùng được" in again.text  # it worked once
            login = browser.get("/login?welcomed=1")
            assert 'id="welcomed"' in login.text
            signed = browser.post(
                "/login",
                data={"csrf_token": form_token(login.text), "login": "quản trị", "password": PASSWORD},
                follow_redirects=True,
            )
            assert signed.status_code == 200 and 'href="/accounts"' in signed.text
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert secret.group(1) not in output and PASSWORD not in output


def test_a_folder_that_already_holds_an_installation_is_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "so-tttt"
    assert setup(folder).returncode == 0
    before = (folder / ".env").read_bytes()
    again = setup(folder)
    assert again.returncode == 1
    assert "already holds an installation" in again.stderr and "Traceback" not in again.stderr
    assert (folder / ".env").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (("--database-url", "mysql://localhost/x"), "does not work with"),
        (("--admin", "terminal"), "choose another account name"),
    ],
)
def test_a_wrong_choice_is_one_sentence_and_leaves_no_folder(
    tmp_path: Path, args: tuple[str, ...], sentence: str
) -> None:
    folder = tmp_path / "so-tttt"
    refused = setup(folder, *args)
    assert refused.returncode == 1 and sentence in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert not folder.exists()
