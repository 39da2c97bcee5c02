"""What the portal says, in Vietnamese first and in English (UX.md's words)."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request

WEEKDAYS = {
    "vi": ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Kịch bản phát thanh",
        "today": "Hôm nay",
        "earlier": "Những ngày trước",
        "later": "Những ngày tới",
        "upcoming": "Sắp đến giờ phát",
        "nothing": "Không có kịch bản nào.",
        "slot_morning": "buổi sáng",
        "slot_noon": "buổi trưa",
        "slot_evening": "buổi chiều",
        "priority_ordinary": "thường",
        "priority_priority": "ưu tiên",
        "priority_emergency": "khẩn cấp",
        "reading_time": "thời lượng đọc",
        "seconds": "giây",
        "script": "Kịch bản (.txt)",
        "print": "Bản in (.docx)",
        "audio": "Bản đọc thử",
        "audio_unavailable": "Chưa có bản đọc thử",
        "unconfirmed": "Chưa xác nhận",
        "aired": "Đã phát",
        "aired_at": "Đã phát lúc",
        "not_aired": "Chưa phát",
        "confirm_aired": "Đã phát",
        "confirm_not_aired": "Chưa phát được",
        "at_time": "Giờ phát (không bắt buộc)",
        "reason": "Lý do",
        "note": "Ghi chú",
        "history": "Lịch sử xác nhận",
        "by": "bởi",
        "calendar": "Lịch (thêm vào điện thoại)",
        "waiting": "Chưa đến giờ: kịch bản sẽ có khi đến giờ phát.",
        "not_sent": "Kịch bản đang được gửi.",
        "signed_out": "Hãy mở lại đường dẫn riêng của đài (đường dẫn cũ có thể đã được thay).",
        "link_refused": "Đường dẫn này không còn hiệu lực: có thể đã được thay bằng đường dẫn mới. Hãy liên hệ Sở.",
        "no_file": "Không có tệp này cho khung giờ này.",
        "form_refused": "Xác nhận này không gửi từ trang của đài nên chưa được ghi nhận: hãy mở lại trang rồi gửi lại.",
        "not_your_slot": "Khung giờ này không thuộc đài của bạn.",
        "not_yet": "Khung giờ {when} chưa đến: chỉ xác nhận sau khi đã phát.",
        "outside_validity": "Khung giờ {when} nằm ngoài thời gian hiệu lực của chiến dịch ({starts} đến {ends}).",
        "time_to_come": "Giờ phát {at} chưa đến.",
        "time_before": "Giờ phát {at} sớm hơn khung giờ ({slot}).",
        "no_reason": "Hãy chọn lý do chưa phát: hỏng thiết bị, mất điện, thay bằng bản tin khẩn cấp hoặc lý do khác.",
        "other_needs_note": "Với lý do khác, hãy ghi rõ chuyện gì đã xảy ra.",
        "bad_time": "'{text}' không phải là giờ (ví dụ 05:35).",
        "language": "English",
    },
    "en": {
        "title": "Radio scripts",
        "today": "Today",
        "earlier": "Earlier days",
        "later": "Coming days",
        "upcoming": "Still to come",
        "nothing": "No scripts.",
        "slot_morning": "morning",
        "slot_noon": "noon",
        "slot_evening": "evening",
        "priority_ordinary": "ordinary",
        "priority_priority": "priority",
        "priority_emergency": "emergency",
        "reading_time": "reading time",
        "seconds": "seconds",
        "script": "Script (.txt)",
        "print": "For printing (.docx)",
        "audio": "Draft reading",
        "audio_unavailable": "No draft reading",
        "unconfirmed": "Unconfirmed",
        "aired": "Aired",
        "aired_at": "Aired at",
        "not_aired": "Not aired",
        "confirm_aired": "Aired",
        "confirm_not_aired": "Could not air",
        "at_time": "Time aired (optional)",
        "reason": "Reason",
        "note": "Note",
        "history": "Confirmation history",
        "by": "by",
        "calendar": "Calendar (add to your phone)",
        "waiting": "Not yet: the script comes at its time.",
        "not_sent": "The script is on its way.",
        "signed_out": "Open your station's own link again (the old one may have been replaced).",
        "link_refused": "This link is no longer valid: it may have been replaced by a new one. Ask the department.",
        "no_file": "There is no such file for this slot.",
        "form_refused": "This did not come from your station's page, so it was not recorded: send it from the page.",
        "not_your_slot": "This slot is not one of your station's.",
        "not_yet": "The slot of {when} has not come yet: confirm it once it has been broadcast.",
        "outside_validity": "The slot of {when} is outside the campaign's validity ({starts} to {ends}).",
        "time_to_come": "The time of airing {at} is still to come.",
        "time_before": "The time of airing {at} is before the slot ({slot}).",
        "no_reason": "Say why it did not air: equipment failure, power cut, emergency bulletin or other.",
        "other_needs_note": "With the reason 'other', write what happened.",
        "bad_time": "'{text}' is not a time (for example 05:35).",
        "language": "Tiếng Việt",
    },
}


def language(request: Request) -> str:
    """`?lang=en` or `?lang=vi`, else the language chosen before (a cookie), else Vietnamese."""
    chosen = request.query_params.get("lang") or request.cookies.get("lang") or "vi"
    return chosen if chosen in WORDS else "vi"


def weekday(moment: datetime, lang: str) -> str:
    return WEEKDAYS[lang][moment.weekday()]
