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
        "nothing_today": "Hôm nay không có khung giờ nào.",
        "slot_morning": "buổi sáng",
        "slot_noon": "buổi trưa",
        "slot_evening": "buổi chiều",
        "priority_ordinary": "thường",
        "priority_priority": "ưu tiên",
        "priority_emergency": "khẩn cấp",
        "reading_time": "Thời lượng đọc",
        "minutes": "phút",
        "seconds": "giây",
        "open_script": "Mở kịch bản",
        "script_txt": "Kịch bản (.txt)",
        "print": "Bản in (.docx)",
        "downloads": "Tải về",
        "audio": "Bản đọc thử",
        "play": "▶ Nghe thử",
        "pause": "❚❚ Tạm dừng",
        "audio_download": "Tải bản đọc thử",
        "audio_unavailable": "Chưa có bản đọc thử",
        "not_read": "Không đọc lên loa",
        "to_read": "Nội dung đọc",
        "all_slots": "← Các khung giờ",
        "unconfirmed": "Chưa xác nhận",
        "aired": "Đã phát",
        "aired_at": "Đã phát lúc",
        "not_aired": "Không phát",
        "confirm_aired": "Đã phát",
        "other_time": "Phát vào giờ khác?",
        "at_time": "Giờ phát",
        "confirm_not_aired": "Không phát được…",
        "send_not_aired": "Báo không phát",
        "reason": "Lý do",
        "note": "Ghi chú",
        "note_hint": "không bắt buộc; bắt buộc với lý do khác",
        "change": "Sửa xác nhận",
        "history": "Lịch sử xác nhận",
        "by": "bởi",
        "waiting": "Chưa đến giờ: kịch bản có lúc {time}.",
        "not_sent": "Kịch bản đang được gửi.",
        "sign_out": "Đăng xuất",
        "sign_in": "Đăng nhập",
        "signed_out_title": "Chưa vào được trang của đài",
        "signed_out_account": "Phiên đăng nhập đã hết. Hãy đăng nhập lại bằng tài khoản của đài.",
        "signed_out_link": (
            "Đường dẫn riêng của đài đã được thay. Hãy mở đường dẫn mới Sở gửi, hoặc đăng nhập nếu đài có tài khoản."
        ),
        "signed_out": "Hãy đăng nhập bằng tài khoản của đài, hoặc mở đường dẫn riêng Sở đã gửi cho đài.",
        "bye": "Đã đăng xuất.",
        "bye_link": "Để vào lại, hãy mở đường dẫn riêng của đài, hoặc đăng nhập nếu đài có tài khoản.",
        "link_refused": "Đường dẫn này không còn hiệu lực: có thể đã được thay bằng đường dẫn mới. Hãy liên hệ Sở.",
        "no_file": "Không có tệp này cho khung giờ này.",
        "form_refused": "Xác nhận này không gửi từ trang của đài nên chưa được ghi nhận: hãy mở lại trang rồi gửi lại.",
        "sign_out_refused": "Yêu cầu đăng xuất không gửi từ trang của đài nên chưa thực hiện: hãy đăng xuất từ trang.",
        "not_your_slot": "Khung giờ này không thuộc đài của bạn.",
        "not_yet": "Khung giờ {when} chưa đến: chỉ xác nhận sau khi đã phát.",
        "outside_validity": "Khung giờ {when} nằm ngoài thời gian hiệu lực của chiến dịch ({starts} đến {ends}).",
        "time_to_come": "Giờ phát {at} chưa đến.",
        "time_before": "Giờ phát {at} sớm hơn khung giờ ({slot}): kịch bản chỉ có từ giờ đó.",
        "no_reason": "Hãy chọn lý do không phát: hỏng thiết bị, mất điện, thay bằng bản tin khẩn cấp hoặc lý do khác.",
        "other_needs_note": "Với lý do khác, hãy ghi rõ chuyện gì đã xảy ra.",
        "bad_time": "'{text}' không phải là giờ (ví dụ 05:35).",
        "calendar": "Lịch phát trên điện thoại",
        "calendar_why": "Thêm lịch này vào điện thoại để thấy các giờ phát và được nhắc trước khi đến giờ.",
        "remind": "Nhắc trước giờ phát",
        "remind_none": "không nhắc",
        "remind_minutes": "{minutes} phút",
        "remind_apply": "Đổi",
        "add_iphone": "Thêm vào Lịch iPhone",
        "add_android": "Thêm vào Google Lịch (Android)",
        "how_iphone": "Cách thêm trên iPhone",
        "how_iphone_1": "Bấm “Thêm vào Lịch iPhone”, rồi bấm “Đăng ký” và “Thêm”.",
        "how_iphone_2": (
            "Nếu không được: mở Cài đặt → Lịch → Tài khoản → Thêm tài khoản → Khác → Thêm lịch đã đăng "
            "ký, dán đường dẫn lịch bên dưới."
        ),
        "how_android": "Cách thêm trên Android",
        "how_android_1": (
            "Bấm “Thêm vào Google Lịch”, chọn tài khoản Google của điện thoại, rồi bấm “Thêm”. Lịch "
            "hiện trong ứng dụng Google Lịch."
        ),
        "how_android_2": (
            "Google Lịch chỉ tải lại lịch vài giờ một lần. Để lịch luôn mới, cài ứng dụng ICSx⁵ (CH "
            "Play), bấm +, dán đường dẫn lịch bên dưới."
        ),
        "feed_link": "Đường dẫn lịch",
        "copy_link": "Chép",
        "copied": "Đã chép",
        "language": "English",
    },
    "en": {
        "title": "Radio scripts",
        "today": "Today",
        "earlier": "Earlier days",
        "later": "Coming days",
        "nothing_today": "No slots today.",
        "slot_morning": "morning",
        "slot_noon": "noon",
        "slot_evening": "evening",
        "priority_ordinary": "ordinary",
        "priority_priority": "priority",
        "priority_emergency": "emergency",
        "reading_time": "Reading time",
        "minutes": "min",
        "seconds": "s",
        "open_script": "Open the script",
        "script_txt": "Script (.txt)",
        "print": "For printing (.docx)",
        "downloads": "Download",
        "audio": "Draft reading",
        "play": "▶ Listen",
        "pause": "❚❚ Pause",
        "audio_download": "Download the draft reading",
        "audio_unavailable": "No draft reading",
        "not_read": "Not read on air",
        "to_read": "To read",
        "all_slots": "← All slots",
        "unconfirmed": "Unconfirmed",
        "aired": "Aired",
        "aired_at": "Aired at",
        "not_aired": "Not aired",
        "confirm_aired": "Aired",
        "other_time": "Aired at another time?",
        "at_time": "Time aired",
        "confirm_not_aired": "Could not air…",
        "send_not_aired": "Report not aired",
        "reason": "Reason",
        "note": "Note",
        "note_hint": "optional; required with 'other'",
        "change": "Change the report",
        "history": "Confirmation history",
        "by": "by",
        "waiting": "Not yet: the script comes at {time}.",
        "not_sent": "The script is on its way.",
        "sign_out": "Sign out",
        "sign_in": "Sign in",
        "signed_out_title": "Not signed in",
        "signed_out_account": "Your sign-in has ended. Sign in again with the station's account.",
        "signed_out_link": (
            "The station's link has been replaced. Open the new link from the department, or sign in if "
            "the station has an account."
        ),
        "signed_out": "Sign in with the station's account, or open the link the department gave the station.",
        "bye": "Signed out.",
        "bye_link": "To come back, open the station's own link, or sign in if the station has an account.",
        "link_refused": "This link is no longer valid: it may have been replaced by a new one. Ask the department.",
        "no_file": "There is no such file for this slot.",
        "form_refused": "This did not come from your station's page, so it was not recorded: send it from the page.",
        "sign_out_refused": "This sign-out did not come from your station's page, so nothing was done: sign out there.",
        "not_your_slot": "This slot is not one of your station's.",
        "not_yet": "The slot of {when} has not come yet: confirm it once it has been broadcast.",
        "outside_validity": "The slot of {when} is outside the campaign's validity ({starts} to {ends}).",
        "time_to_come": "The time of airing {at} is still to come.",
        "time_before": "The time of airing {at} is before the slot ({slot}): the script comes only then.",
        "no_reason": "Say why it did not air: equipment failure, power cut, emergency bulletin or other.",
        "other_needs_note": "With the reason 'other', write what happened.",
        "bad_time": "'{text}' is not a time (for example 05:35).",
        "calendar": "The timetable on your phone",
        "calendar_why": "Add this calendar to your phone to see every slot and be reminded before it.",
        "remind": "Remind me before each slot",
        "remind_none": "no reminder",
        "remind_minutes": "{minutes} minutes",
        "remind_apply": "Change",
        "add_iphone": "Add to iPhone Calendar",
        "add_android": "Add to Google Calendar (Android)",
        "how_iphone": "How to add it on an iPhone",
        "how_iphone_1": "Tap “Add to iPhone Calendar”, then “Subscribe” and “Add”.",
        "how_iphone_2": (
            "If that does not work: Settings → Calendar → Accounts → Add Account → Other → Add "
            "Subscribed Calendar, and paste the calendar link below."
        ),
        "how_android": "How to add it on Android",
        "how_android_1": (
            "Tap “Add to Google Calendar”, choose the phone's Google account, then “Add”. It shows in "
            "the Google Calendar app."
        ),
        "how_android_2": (
            "Google Calendar reloads it only every few hours. To keep it fresh, install ICSx⁵ (Play "
            "Store), tap +, and paste the calendar link below."
        ),
        "feed_link": "Calendar link",
        "copy_link": "Copy",
        "copied": "Copied",
        "language": "Tiếng Việt",
    },
}


def language(request: Request) -> str:
    """`?lang=en` or `?lang=vi`, else the language chosen before (a cookie), else Vietnamese."""
    chosen = request.query_params.get("lang") or request.cookies.get("lang") or "vi"
    return chosen if chosen in WORDS else "vi"


def weekday(moment: datetime, lang: str) -> str:
    return WEEKDAYS[lang][moment.weekday()]
