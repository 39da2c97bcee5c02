"""The faces (the command line and the web) write nothing themselves: every change a person or a system causes
goes through an operation (`broadcaster.operations`), which checks the permission and writes the audit entry.

Only the web's own bookkeeping writes in `web/`: the request's unit of work, the console's sign-in sessions and
the answers kept for idempotency keys.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "broadcaster"
FACES = ("cli", "web")

# The face's own tables and transaction, each with why it may write there.
ALLOWED = {
    "web/auth.py": "the request's unit of work: commits what the handler's operations wrote, or rolls it back",
    "web/sessions.py": "the console's own sign-in sessions (its cookie's row)",
    "web/idempotency.py": "the answer kept for an Idempotency-Key, beside the operation's own transaction",
}
# Methods that write through a session, whatever it is called; and `flush` or `commit` on anything else that
# is not an output stream.
SESSION_WRITES = {"add", "add_all", "merge", "delete", "commit", "flush", "rollback"}
STREAMS = {"sys.stdout", "sys.stderr"}
# SQLAlchemy's Core statements that change rows.
CORE_WRITES = {"insert", "update", "delete"}


def _sqlalchemy_writes_imported(tree: ast.Module) -> set[str]:
    return {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
        if alias.name in CORE_WRITES
    }


def writes_in(source: str) -> list[tuple[int, str]]:
    """Each line of `source` that writes to the database itself, with the call as written."""
    tree = ast.parse(source)
    core = _sqlalchemy_writes_imported(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Attribute) and function.attr in SESSION_WRITES:
            receiver = ast.unparse(function.value)
            on_session = "session" in receiver.lower()
            if on_session or (function.attr in ("commit", "flush", "rollback") and receiver not in STREAMS):
                found.append((node.lineno, f"{receiver}.{function.attr}("))
        elif isinstance(function, ast.Name) and function.id in core:
            found.append((node.lineno, f"{function.id}("))
    return sorted(found)


def face_files() -> list[Path]:
    return sorted(path for face in FACES for path in (PACKAGE / face).rglob("*.py"))


def test_the_command_line_and_the_web_write_only_through_operations() -> None:
    stray = [
        f"broadcaster/{path.relative_to(PACKAGE)}:{line}: {call}"
        for path in face_files()
        if str(path.relative_to(PACKAGE)) not in ALLOWED
        for line, call in writes_in(path.read_text(encoding="utf-8"))
    ]
    assert not stray, "write through an operation in broadcaster/operations instead:\n" + "\n".join(stray)


def test_each_allowed_file_still_writes_its_own_bookkeeping() -> None:
    idle = [name for name in ALLOWED if not writes_in((PACKAGE / name).read_text(encoding="utf-8"))]
    assert not idle, f"no longer writing, so no longer allowed: {idle}"


def test_the_scan_sees_each_kind_of_write() -> None:
    source = """
import sys
from sqlalchemy import update as change
def handler(session, db_session, seen):
    session.add(object())
    db_session.commit()
    seen.add(1)
    sys.stdout.flush()
    session.execute(change(object))
"""
    assert writes_in(source) == [(5, "session.add("), (6, "db_session.commit("), (9, "change(")]
