"""What the console says, Vietnamese first and English second (the words of UX.md), and how it writes dates.

Templates read `w.key`; a page module that needs new words adds the key to both languages here (a test
checks that both languages have the same keys). Dates are `14/05/2024`, times `19:00`, weekdays
`Thứ Hai … Chủ Nhật`, always in the issuer's time zone (the `timezone` setting).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import Request

from broadcaster.web.console.words_composer import COMPOSER_WORDS
from broadcaster.web.portal.words import WEEKDAYS

LANG_COOKIE = "lang"
Day = date  # the type, named apart from `Dates.date`

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "product": "Hệ thống phát cảnh báo",
        "dashboard": "Tổng quan",
        "campaigns": "Chiến dịch",
        "calendar": "Lịch phát",
        "directory": "Danh bạ",
        "accounts": "Tài khoản",
        "audit": "Nhật ký thao tác",
        "sign_in": "Đăng nhập",
        "sign_out": "Đăng xuất",
        "login": "Tên tài khoản",
        "password": "Mật khẩu",
        "signed_in_as": "Đang đăng nhập:",
        "language": "English",
        "wrong_login": "Sai tên tài khoản hoặc mật khẩu.",
        "account_disabled": "Tài khoản này đã bị khóa. Hãy liên hệ quản trị viên.",
        "too_many": "Đăng nhập sai quá nhiều lần: hãy thử lại sau {seconds} giây.",
        "login_empty": "Hãy nhập tên tài khoản.",
        "password_empty": "Hãy nhập mật khẩu.",
        "session_ended": "Phiên làm việc đã kết thúc. Hãy đăng nhập lại.",
        "csrf_refused": (
            "Biểu mẫu này đã hết hạn hoặc không được gửi từ trang của hệ thống. Hãy tải lại trang và thử lại."
        ),
        "forbidden_title": "Không có quyền",
        "forbidden": "Tài khoản {login} không được làm việc này: cần quyền {permission}.",
        "station_forbidden": "Tài khoản của đài truyền thanh chỉ dùng trang kịch bản của đài.",
        "to_portal": "Mở trang kịch bản của đài",
        "not_found_title": "Không tìm thấy",
        "not_found": "Không có trang nào ở địa chỉ {path}.",
        "error_title": "Đã có lỗi",
        "error": "Đã có lỗi ngoài dự kiến; lỗi đã được ghi lại cho bộ phận kỹ thuật. Hãy thử lại sau ít phút.",
        "database_error": "Không dùng được cơ sở dữ liệu lúc này; hãy thử lại sau ít phút.",
        "back_home": "Về trang tổng quan",
        "form_has_errors": "Biểu mẫu có lỗi: xem các dòng đánh dấu đỏ.",
        "required": "Hãy điền mục này.",
        "save": "Lưu",
        "cancel": "Hủy",
        "search": "Tìm",
        "status_draft": "bản nháp",
        "status_submitted": "chờ phê duyệt",
        "status_approved": "đã phê duyệt",
        "status_active": "đang phát",
        "status_paused": "tạm dừng",
        "status_completed": "đã xong",
        "status_cancelled": "đã hủy",
        "channel_email": "công văn điện tử",
        "channel_sms": "tin nhắn SMS",
        "channel_facebook": "trang Facebook",
        "channel_radio": "truyền thanh",
        "priority_ordinary": "thường",
        "priority_priority": "ưu tiên",
        "priority_emergency": "khẩn cấp",
        "state_planned": "dự kiến",
        "state_expanding": "đang chuẩn bị",
        "state_waiting": "đang chờ",
        "state_sent": "đã gửi",
        "state_delivered": "đã nhận",
        "state_failed": "thất bại",
        "state_skipped": "bỏ qua",
        "my_drafts": "Bản nháp",
        "to_approve": "Chờ phê duyệt",
        "you_cannot_approve": "Bạn đã soạn hoặc trình chiến dịch này nên không thể tự phê duyệt.",
        "paused_channels": "Kênh đang tạm dừng",
        "nothing_waits": "Không có gì đang chờ.",
        "filter_status": "Lọc theo trạng thái",
        "all": "Tất cả",
        "number": "Số hiệu",
        "subject": "Trích yếu",
        "status": "Trạng thái",
        "priority": "Mức độ",
        "channels": "Kênh",
        "channel": "Kênh",
        "validity": "Thời gian hiệu lực",
        "no_campaigns": "Chưa có chiến dịch nào.",
        "issuer": "Cơ quan ban hành",
        "drafted_by": "Người soạn",
        "submitted_by": "Người trình",
        "approved_by": "Người phê duyệt",
        "version": "phiên bản",
        "preview": "Xem trước",
        "monitor": "Theo dõi gửi",
        "ics_feed": "Lịch ICS",
        "audience": "Đối tượng nhận",
        "timetable": "Lịch phát",
        "areas": "Địa bàn",
        "once_at": "Một lần lúc",
        "slots": "Khung giờ",
        "channel_paused": "Tạm dừng",
        "channel_running": "Hoạt động",
        "return_reason": "Lý do trả lại",
        "action_submit": "Trình duyệt",
        "action_approve": "Phê duyệt",
        "action_return": "Trả lại",
        "action_pause": "Tạm dừng",
        "action_resume": "Tiếp tục",
        "action_cancel": "Hủy chiến dịch",
        "reason_needed": "Hãy ghi lý do trả lại để người soạn biết cần sửa gì.",
        "you_submitted": "Bạn đã trình chiến dịch này nên không thể tự phê duyệt: cần một người khác phê duyệt (nguyên tắc hai người).",
        "you_drafted": "Bạn đã soạn phiên bản này nên không thể tự phê duyệt: cần một người khác phê duyệt (nguyên tắc hai người).",
        "changes_since_approved": "Thay đổi so với phiên bản đã phê duyệt",
        "never_approved": "Chưa có phiên bản nào được phê duyệt: đây là lần đầu.",
        "no_changes": "Không có thay đổi.",
        "sample_recipient": "Người nhận mẫu",
        "sample_hint": "Ghi địa chỉ, số điện thoại, tên hoặc mã của một người nhận để xem bản gửi cho người đó; để trống để xem người nhận đầu tiên.",
        "show_for_recipient": "Xem cho người nhận này",
        "locale": "Ngôn ngữ",
        "recipient": "Người nhận",
        "first_fire": "Lần gửi đầu",
        "slot": "khung giờ",
        "email_subject": "Tiêu đề thư",
        "letter": "Công văn",
        "letter_pdf": "Mở công văn PDF (A4)",
        "plain_text": "Nội dung dạng chữ",
        "characters": "ký tự",
        "sms_parts": "tin",
        "reading_time": "Thời lượng đọc",
        "minutes": "phút",
        "seconds": "giây",
    },
    "en": {
        "product": "Warning broadcaster",
        "dashboard": "Dashboard",
        "campaigns": "Campaigns",
        "calendar": "Calendar",
        "directory": "Directory",
        "accounts": "Accounts",
        "audit": "Audit log",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "login": "Account name",
        "password": "Password",
        "signed_in_as": "Signed in as",
        "language": "Tiếng Việt",
        "wrong_login": "Wrong account name or password.",
        "account_disabled": "This account is disabled. Ask an administrator.",
        "too_many": "Too many failed sign-ins: try again in {seconds} seconds.",
        "login_empty": "Type your account name.",
        "password_empty": "Type your password.",
        "session_ended": "Your session has ended. Sign in again.",
        "csrf_refused": (
            "This form has expired or was not sent from the console's own page. Reload the page and try again."
        ),
        "forbidden_title": "Not permitted",
        "forbidden": "The account {login} may not do this: it needs the permission {permission}.",
        "station_forbidden": "A radio station's account only uses the station's script pages.",
        "to_portal": "Open the station's scripts",
        "not_found_title": "Not found",
        "not_found": "There is no page at {path}.",
        "error_title": "Something went wrong",
        "error": "Something unexpected went wrong; it was logged for the operators. Try again in a few minutes.",
        "database_error": "The database cannot be used right now; try again in a few minutes.",
        "back_home": "Back to the dashboard",
        "form_has_errors": "The form has errors: see the lines marked in red.",
        "required": "Fill in this field.",
        "save": "Save",
        "cancel": "Cancel",
        "search": "Search",
        "status_draft": "draft",
        "status_submitted": "awaiting approval",
        "status_approved": "approved",
        "status_active": "sending",
        "status_paused": "paused",
        "status_completed": "completed",
        "status_cancelled": "cancelled",
        "channel_email": "e-mail letter",
        "channel_sms": "SMS",
        "channel_facebook": "Facebook page",
        "channel_radio": "radio",
        "priority_ordinary": "ordinary",
        "priority_priority": "priority",
        "priority_emergency": "emergency",
        "state_planned": "planned",
        "state_expanding": "expanding",
        "state_waiting": "waiting",
        "state_sent": "sent",
        "state_delivered": "delivered",
        "state_failed": "failed",
        "state_skipped": "skipped",
        "my_drafts": "Drafts",
        "to_approve": "Awaiting approval",
        "you_cannot_approve": "You drafted or submitted this campaign, so you cannot approve it.",
        "paused_channels": "Paused channels",
        "nothing_waits": "Nothing waits.",
        "filter_status": "Filter by status",
        "all": "All",
        "number": "Number",
        "subject": "Subject",
        "status": "Status",
        "priority": "Priority",
        "channels": "Channels",
        "channel": "Channel",
        "validity": "Validity window",
        "no_campaigns": "No campaigns yet.",
        "issuer": "Issuer",
        "drafted_by": "Drafted by",
        "submitted_by": "Submitted by",
        "approved_by": "Approved by",
        "version": "version",
        "preview": "Preview",
        "monitor": "Monitor",
        "ics_feed": "ICS feed",
        "audience": "Audience",
        "timetable": "Timetable",
        "areas": "Areas",
        "once_at": "Once at",
        "slots": "Slots",
        "channel_paused": "Paused",
        "channel_running": "Running",
        "return_reason": "Reason for returning",
        "action_submit": "Submit for approval",
        "action_approve": "Approve",
        "action_return": "Return",
        "action_pause": "Pause",
        "action_resume": "Resume",
        "action_cancel": "Cancel the campaign",
        "reason_needed": "Say why it goes back, so the drafter knows what to change.",
        "you_submitted": "You submitted this campaign, so you cannot approve it: another person must (two-person rule).",
        "you_drafted": "You drafted this version, so you cannot approve it: another person must (two-person rule).",
        "changes_since_approved": "Changes since the approved version",
        "never_approved": "No version was approved before: this is the first.",
        "no_changes": "No changes.",
        "sample_recipient": "Sample recipient",
        "sample_hint": "Type an address, phone number, name or key of a recipient to see what they receive; leave empty for the first recipient.",
        "show_for_recipient": "Show for this recipient",
        "locale": "Locale",
        "recipient": "Recipient",
        "first_fire": "First sending",
        "slot": "slot",
        "email_subject": "E-mail subject",
        "letter": "Letter",
        "letter_pdf": "Open the letter as PDF (A4)",
        "plain_text": "Plain text",
        "characters": "characters",
        "sms_parts": "parts",
        "reading_time": "Reading time",
        "minutes": "min",
        "seconds": "s",
    },
}

for _lang, _words in COMPOSER_WORDS.items():  # the composer and directory pages keep their words apart
    WORDS[_lang] = {**_words, **WORDS[_lang]}


def language(request: Request) -> str:
    """`?lang=` when given (and then remembered in a cookie), else the cookie, else Vietnamese."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "vi"
    return chosen if chosen in WORDS else "vi"


class Dates:
    """Dates and times as the console writes them, in one time zone and one language (templates: `dates.…`)."""

    def __init__(self, zone: ZoneInfo, lang: str):
        self.zone, self.lang = zone, lang

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def weekday(self, day: Day | datetime) -> str:
        if isinstance(day, datetime):
            day = self.local(day)
        return WEEKDAYS[self.lang][day.weekday()]

    def date(self, day: Day | datetime | None) -> str:
        """`14/05/2024` (a moment is first moved to the issuer's time zone)."""
        if day is None:
            return ""
        if isinstance(day, datetime):
            day = self.local(day)
        return f"{day:%d/%m/%Y}"

    def time(self, moment: datetime | None) -> str:
        return f"{self.local(moment):%H:%M}" if moment is not None else ""

    def when(self, moment: datetime | None) -> str:
        """`Thứ Ba 14/05/2024 19:00`."""
        if moment is None:
            return ""
        return f"{self.weekday(moment)} {self.date(moment)} {self.time(moment)}"

    def day(self, day: Day | datetime | None) -> str:
        """`Thứ Ba 14/05/2024`."""
        return f"{self.weekday(day)} {self.date(day)}" if day is not None else ""
