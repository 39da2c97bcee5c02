"""An issuer's numbers waiting for approval (`/directory/issuers/<slug>/numbers`): what citizens are told is
genuine changes only when a second person approves it, as a campaign does. The page shows the numbers in force
beside those proposed; an approver who did not propose them approves or rejects."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from broadcaster.accounts import Actor
from broadcaster.errors import UserError
from broadcaster.operations import directory as directory_ops
from broadcaster.web.auth import DbSession
from broadcaster.web.console.pages import FormState, console_router, page_for, render
from broadcaster.web.console.words import WORDS, language

router = console_router()
Reader = Annotated[Actor, Depends(page_for("directory:read"))]
Approver = Annotated[Actor, Depends(page_for("campaigns:approve"))]
IssuerSlug = Annotated[str, Path(max_length=100)]

NUMBERS_WORDS = {
    "vi": {
        "numbers_title": "Số điện thoại chính thức",
        "numbers_intro": (
            "Trang tra cứu cho người dân biết số nào là của Sở: "
            "đổi các số này cần người thứ hai phê duyệt, như phê duyệt chiến dịch."
        ),
        "numbers_in_force": "Đang dùng",
        "numbers_proposed": "Đề nghị thay bằng",
        "numbers_by": "Người đề nghị: {who}, lúc {when}.",
        "numbers_none_waiting": "Không có đề nghị nào đang chờ phê duyệt.",
        "numbers_hotlines": "Đường dây nóng",
        "numbers_official": "Số chính thức khác",
        "numbers_approve": "Phê duyệt các số mới",
        "numbers_reject": "Từ chối",
        "numbers_approved": "Đã phê duyệt: các số mới đã có hiệu lực.",
        "numbers_rejected": "Đã từ chối: các số đang dùng được giữ nguyên.",
        "numbers_waiting_notice": "Các số điện thoại vừa sửa đang chờ người khác phê duyệt.",
    },
    "en": {
        "numbers_title": "Official numbers",
        "numbers_intro": (
            "The verification page tells citizens which numbers are the department's: "
            "changing them needs a second person's approval, as a campaign does."
        ),
        "numbers_in_force": "In force",
        "numbers_proposed": "Proposed instead",
        "numbers_by": "Proposed by {who}, at {when}.",
        "numbers_none_waiting": "No change is waiting for approval.",
        "numbers_hotlines": "Hotlines",
        "numbers_official": "Other official numbers",
        "numbers_approve": "Approve the new numbers",
        "numbers_reject": "Reject",
        "numbers_approved": "Approved: the new numbers are in force.",
        "numbers_rejected": "Rejected: the numbers in force are kept.",
        "numbers_waiting_notice": "The numbers just changed wait for another person's approval.",
    },
}
for _lang, _words in NUMBERS_WORDS.items():
    WORDS[_lang].update(_words)


def _page(request: Request, session: Session, actor: Actor, slug: str, form: FormState, status: int = 200) -> Response:
    profile = directory_ops.issuer_profile(session, actor, slug)
    proposal = directory_ops.numbers_proposal(session, actor, slug)
    in_force: dict[str, Any] = proposal.in_force if proposal else profile
    context = {
        "slug": slug,
        "in_force": in_force,
        "proposal": proposal,
        "form": form,
        "done": request.query_params.get("done", ""),
    }
    return render(request, "issuer_numbers.html", context, status_code=status)


@router.get("/directory/issuers/{slug}/numbers", response_class=HTMLResponse)
def numbers_page(request: Request, session: DbSession, actor: Reader, slug: IssuerSlug) -> Response:
    return _page(request, session, actor, slug, FormState())


@router.post("/directory/issuers/{slug}/numbers/{decision}", response_class=HTMLResponse)
def decide(
    request: Request,
    session: DbSession,
    actor: Approver,
    slug: IssuerSlug,
    decision: Annotated[str, Path(pattern="^(approve|reject)$")],
) -> Response:
    try:
        with session.begin_nested():
            directory_ops.decide_numbers(session, actor, slug, decision == "approve")
    except UserError as exc:
        form = FormState()
        form.fail_with(exc, language(request))
        return _page(request, session, actor, slug, form, 409)
    done = "approved" if decision == "approve" else "rejected"
    return RedirectResponse(f"/directory/issuers/{slug}/numbers?done={done}", status_code=303)
