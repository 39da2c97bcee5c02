"""The public page's words, Vietnamese first and English second (UX.md, "Words on screen")."""

from __future__ import annotations

LANGUAGES = ("vi", "en")

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "lang": "vi",
        "other_lang": "en",
        "other_lang_name": "English",
        "title": "Tra cứu: số điện thoại, cảnh báo, công văn",
        "intro": (
            "Trang chính thức của {issuers}. Kiểm tra một cuộc gọi, một tin nhắn hay một công văn có đúng là của "
            "Sở hay không."
        ),
        "number_heading": "Số điện thoại này có phải của Sở không?",
        "number_label": "Số điện thoại (VD: 0276 3631 168)",
        "check": "Kiểm tra",
        "number_yes": "Đúng. Số {number} là số điện thoại chính thức của {issuer}",
        "number_no": "Số {number} KHÔNG phải là số điện thoại chính thức của Sở.",
        "not_a_number": (
            "“{number}” không phải là một số điện thoại. Hãy nhập số như 0276 3631 168 hoặc +84 276 3631 168."
        ),
        "never": (
            "Sở không bao giờ gọi điện mời người dân đến làm việc, không yêu cầu cung cấp thông tin cá nhân, số "
            "tài khoản ngân hàng, mã OTP, không đề nghị kết bạn Zalo hay bấm vào đường link qua điện thoại."
        ),
        "report": "Nếu bạn nhận được cuộc gọi đáng ngờ, hãy lưu lại số điện thoại và báo cho:",
        "hotline": "đường dây nóng",
        "warnings_heading": "Cảnh báo đang có hiệu lực",
        "no_warnings": "Hiện không có cảnh báo nào đang có hiệu lực.",
        "letter_no": "Công văn số {number} ngày {date}",
        "valid": "Hiệu lực: {start} – {end}",
        "details": "Xem chi tiết",
        "letter_heading": "Công văn này có thật không?",
        "letter_number_label": "Số công văn (VD: 881/STTTT-TTr)",
        "letter_date_label": "Ngày ban hành (VD: 14/05/2024)",
        "letter_yes": "Có thật. Đây là công văn đã được phê duyệt của {issuer}:",
        "letter_no_such": "Không có công văn số {number} ngày {date} của Sở. Văn bản bạn nhận được có thể là giả mạo.",
        "bad_date": "“{date}” không phải là một ngày. Hãy nhập ngày như 14/05/2024.",
        "need_both": "Hãy nhập cả số công văn và ngày ban hành.",
        "letter_text": "Toàn văn công văn",
        "pdf": "Tải bản PDF",
        "cap": "Bản tin CAP (cho các hệ thống cảnh báo)",
        "state_in-force": "Đang có hiệu lực",
        "state_expired": "Đã hết hiệu lực",
        "state_withdrawn": "Đã thu hồi (hủy)",
        "back": "← Về trang tra cứu",
        "not_found": "Không có cảnh báo hay công văn nào như vậy.",
        "limited": "Bạn đã tra cứu quá nhiều lần trong một phút. Xin đợi một phút rồi thử lại.",
        "footer": "Trang này không lưu số điện thoại hay thông tin nào bạn nhập.",
    },
    "en": {
        "lang": "en",
        "other_lang": "vi",
        "other_lang_name": "Tiếng Việt",
        "title": "Check a phone number, a warning, a letter",
        "intro": (
            "The official page of {issuers}. Check whether a call, a message or a letter really comes from the "
            "Department."
        ),
        "number_heading": "Is this phone number the Department's?",
        "number_label": "Phone number (e.g. 0276 3631 168)",
        "check": "Check",
        "number_yes": "Yes. {number} is an official phone number of {issuer}",
        "number_no": "{number} is NOT an official phone number of the Department.",
        "not_a_number": "“{number}” is not a phone number. Enter a number such as 0276 3631 168 or +84 276 3631 168.",
        "never": (
            "The Department never calls people to invite them to a meeting, and never asks for personal data, "
            "bank account numbers or OTP codes, a Zalo friend request or a click on a link over the phone."
        ),
        "report": "If you received a suspicious call, note the number and report it to:",
        "hotline": "hotline",
        "warnings_heading": "Warnings in force",
        "no_warnings": "No warning is in force at the moment.",
        "letter_no": "Letter No. {number} of {date}",
        "valid": "Valid: {start} – {end}",
        "details": "Details",
        "letter_heading": "Is this letter genuine?",
        "letter_number_label": "Letter number (e.g. 881/STTTT-TTr)",
        "letter_date_label": "Date (e.g. 14/05/2024)",
        "letter_yes": "Genuine. This is an approved letter of {issuer}:",
        "letter_no_such": (
            "The Department has no letter No. {number} of {date}. The document you received may be forged."
        ),
        "bad_date": "“{date}” is not a date. Enter a date such as 14/05/2024.",
        "need_both": "Enter both the letter number and its date.",
        "letter_text": "Full text of the letter (Vietnamese)",
        "pdf": "Download the PDF",
        "cap": "CAP alert (for alerting systems)",
        "state_in-force": "In force",
        "state_expired": "Expired",
        "state_withdrawn": "Withdrawn (cancelled)",
        "back": "← Back to the checks",
        "not_found": "There is no such warning or letter.",
        "limited": "Too many checks in one minute. Please wait a minute and try again.",
        "footer": "This page keeps no phone number or anything else you enter.",
    },
}


def words_for(lang: str | None) -> dict[str, str]:
    return WORDS[lang if lang in LANGUAGES else "vi"]
