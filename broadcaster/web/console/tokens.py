"""API tokens (`/tokens`): everyone lists and revokes their own; an administrator sees and revokes anyone's.

Tokens are made where they are used (`broadcaster user token create`, or `POST /api/v1/tokens` with a
password); this page is where a lost laptop's or a departed script's token is found and ended at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from broadcaster import accounts
from broadcaster.accounts import Actor
from broadcaster.errors import UserError
from broadcaster.operations import accounts as operations
from broadcaster.web.auth import DbSession
from broadcaster.web.console.pages import (
    FormState,
    NavItem,
    StaffMember,
    console_router,
    register_nav,
    render,
    settings_of,
)
from broadcaster.web.console.sentences import sentence_of
from broadcaster.web.console.words import WORDS, language

router = console_router()
register_nav(NavItem(85, "tokens", "/tokens"))
EVERYONE = "*"

TOKEN_WORDS = {
    "vi": {
        "tokens": "Mã truy cập API",
        "tokens_intro": (
            "Mỗi mã cho một chương trình hoặc một máy dùng API thay bạn. "
            "Thu hồi ngay mã bị lộ, mã của máy bị mất hay của chương trình không còn dùng."
        ),
        "tokens_make": (
            "Tạo mã mới bằng lệnh broadcaster user token create, "
            "hoặc gửi tên tài khoản và mật khẩu tới POST /api/v1/tokens. "
            "Mã chỉ hiện một lần."
        ),
        "tokens_none": "Chưa có mã nào.",
        "tokens_account": "Tài khoản",
        "tokens_everyone": "Mọi tài khoản",
        "tokens_show": "Xem",
        "tokens_number": "Số",
        "tokens_name": "Tên mã",
        "tokens_created": "Tạo lúc",
        "tokens_expires": "Hết hạn",
        "tokens_last_used": "Dùng lần cuối",
        "tokens_state": "Trạng thái",
        "tokens_live": "đang dùng được",
        "tokens_revoked": "đã thu hồi",
        "tokens_expired": "đã hết hạn",
        "tokens_never": "chưa dùng",
        "tokens_no_expiry": "không hết hạn",
        "tokens_revoke": "Thu hồi",
        "tokens_done": "Đã thu hồi mã {id}: mã này không còn mở được API.",
    },
    "en": {
        "tokens": "API tokens",
        "tokens_intro": (
            "Each token lets one program or machine use the API as you. "
            "Revoke at once a token that leaked, a lost machine's, or one a program no longer needs."
        ),
        "tokens_make": (
            "Make a new one with broadcaster user token create, "
            "or by sending your account name and password to POST /api/v1/tokens. "
            "A token is shown once."
        ),
        "tokens_none": "No token yet.",
        "tokens_account": "Account",
        "tokens_everyone": "Every account",
        "tokens_show": "Show",
        "tokens_number": "No.",
        "tokens_name": "Token name",
        "tokens_created": "Created",
        "tokens_expires": "Expires",
        "tokens_last_used": "Last used",
        "tokens_state": "State",
        "tokens_live": "usable",
        "tokens_revoked": "revoked",
        "tokens_expired": "expired",
        "tokens_never": "never",
        "tokens_no_expiry": "does not expire",
        "tokens_revoke": "Revoke",
        "tokens_done": "Token {id} is revoked: it opens the API no more.",
    },
}
for _lang, _words in TOKEN_WORDS.items():
    WORDS[_lang].update(_words)


def _state(row: operations.TokenRow, now: datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "live"


def _page(
    request: Request, session: Session, actor: Actor, account: str, form: FormState, status: int = 200
) -> Response:
    now = settings_of(request).clock.now()
    rows = operations.list_tokens(session, actor, account or None)
    context = {
        "rows": [(row, _state(row, now)) for row in rows],
        "account": account,
        "accounts_known": [item.login for item in accounts.list_accounts(session)] if actor.may("users:manage") else [],
        "everyone": EVERYONE,
        "form": form,
        "done": request.query_params.get("done", ""),
    }
    return render(request, "tokens.html", context, status_code=status)


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(
    request: Request, session: DbSession, actor: StaffMember, account: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """The signed-in person's tokens; an administrator may ask for another account's, or everyone's (`*`)."""
    return _page(request, session, actor, account, FormState(values={"account": account}))


@router.post("/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke(
    request: Request,
    session: DbSession,
    actor: StaffMember,
    token_id: Annotated[int, Path(ge=1, le=2**62)],
    account: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    try:
        with session.begin_nested():
            operations.revoke_token(session, actor, token_id, settings_of(request).clock.now())
    except UserError as exc:
        form = FormState(values={"account": account})
        form.fail("", sentence_of(exc, language(request)))
        return _page(request, session, actor, account, form, 404)
    query = {"done": str(token_id)} | ({"account": account} if account else {})
    return RedirectResponse(f"/tokens?{urlencode(query)}", status_code=303)
