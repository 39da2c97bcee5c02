"""The core's sentences in the console's language. The core says them in English (the command line, the
API, the logs keep English); every console page and fragment shows them through `said` / `sentences_of`
with the request's language, Vietnamese first. A pattern captures the variable parts (names, numbers) so
they stay as said; a sentence with no translation here is shown as it was said.

    except UserError as exc:
        form.fail("", sentence_of(exc, language(request)))
"""

from __future__ import annotations

import re

from broadcaster.errors import UserError
from broadcaster.problems import InvalidInput

_VIETNAMESE = (
    (
        re.compile(r"the OA has used up today's ZNS quota; sending resumes tomorrow \(Zalo (?P<code>-?\d+)\)"),
        "OA đã dùng hết hạn mức tin ZNS trong ngày; từ 0 giờ ngày mai tự gửi tiếp (Zalo {code}).",
    ),
    (
        re.compile(
            r"the text has a link \((?P<link>.+?)\); (?P<channel>\w+) bulletins must not contain links, since the "
            r"warning tells people never to follow one"
        ),
        "Nội dung có đường dẫn ({link}); tin {channel} không được có đường dẫn, vì cảnh báo dặn người dân "
        "không bấm vào đường dẫn nào.",
    ),
    (
        re.compile(
            r"the text has the phone number (?P<number>\S+), which is not one of the issuer's official hotlines "
            r"\((?P<hotlines>.*)\)"
        ),
        "Nội dung có số điện thoại {number}, không phải đường dây nóng chính thức của đơn vị ({hotlines}).",
    ),
    (
        re.compile(r"the (?P<channel>\w+) text does not give an official hotline \((?P<hotlines>.*)\)"),
        "Nội dung {channel} chưa có đường dây nóng chính thức của đơn vị ({hotlines}): chèn trường [Đường dây nóng].",
    ),
    (
        re.compile(r"choose the issuer first: the text is checked against its hotlines"),
        "Hãy chọn cơ quan ban hành trước: nội dung được đối chiếu với đường dây nóng của cơ quan.",
    ),
    # ---- the lifecycle: who may not approve and why, wrong state
    (
        re.compile(
            r"'(?P<login>[^']+)' submitted campaign '(?P<slug>[^']+)' and so cannot approve it: "
            r"a second person must approve \(two-person rule\)"
        ),
        "{login} đã trình duyệt chiến dịch {slug} nên không thể tự phê duyệt: cần một người thứ hai phê duyệt "
        "(nguyên tắc hai người).",
    ),
    (
        re.compile(
            r"'(?P<login>[^']+)' wrote part of version (?P<number>\d+) of campaign '(?P<slug>[^']+)' and so cannot "
            r"approve it: a second person must approve \(two-person rule\)"
        ),
        "{login} đã viết một phần phiên bản {number} của chiến dịch {slug} nên không thể phê duyệt: cần một người "
        "thứ hai phê duyệt (nguyên tắc hai người).",
    ),
    (
        re.compile(
            r"campaign '(?P<slug>[^']+)' is (?P<state>\w+); only a campaign that is (?P<allowed>[\w ]+?) can be "
            r"(?P<action>[\w ]+)"
        ),
        "Chiến dịch {slug} đang ở trạng thái {state}; chỉ chiến dịch {allowed} mới có thể {action}.",
    ),
    (
        re.compile(
            r"campaign '(?P<slug>[^']+)' was submitted before versions were kept; "
            r"return it to draft and submit it again"
        ),
        "Chiến dịch {slug} được trình duyệt trước khi có lưu phiên bản: hãy trả lại bản nháp rồi trình duyệt lại.",
    ),
    (
        re.compile(r"campaign '(?P<slug>[^']+)' is (?P<state>\w+): only an approved one is revised"),
        "Chiến dịch {slug} đang ở trạng thái {state}: chỉ chiến dịch đã phê duyệt mới được sửa đổi.",
    ),
    (
        re.compile(r"campaign '(?P<slug>[^']+)' has no revision: edit it to start one"),
        "Chiến dịch {slug} chưa có bản sửa đổi: hãy sửa chiến dịch để bắt đầu.",
    ),
    (
        re.compile(r"campaign '(?P<slug>[^']+)' has no revision to discard"),
        "Chiến dịch {slug} không có bản sửa đổi nào để bỏ.",
    ),
    (
        re.compile(r"campaign '(?P<slug>[^']+)' is (?P<state>\w+): its content can no longer change"),
        "Chiến dịch {slug} đang ở trạng thái {state}: nội dung không thể thay đổi nữa.",
    ),
    (
        re.compile(r"there is no campaign '(?P<slug>[^']+)'"),
        "Không có chiến dịch {slug}.",
    ),
    # ---- validation: fields and values
    (re.compile(r"is required"), "Cần điền mục này."),
    (re.compile(r"field required"), "Cần điền mục này."),
    (re.compile(r"is not a known field here"), "Mục này không có ở đây."),
    (re.compile(r"needs exactly one of 'at', 'cron' or 'slots'"), "Cần đúng một trong 'at', 'cron' hoặc 'slots'."),
    (
        re.compile(r"'(?P<value>.*)' is not a valid date or time \((?P<why>.*)\)"),
        "'{value}' không phải ngày hoặc giờ hợp lệ.",
    ),
    # ---- directory imports: columns, rows, files
    (
        re.compile(r"(?P<name>.+): is a spreadsheet workbook, not CSV; (?P<advice>.+)"),
        "{name}: là sổ tính Excel, không phải tệp CSV; trong Excel hãy lưu thành 'CSV UTF-8 (Comma delimited)'.",
    ),
    (
        re.compile(r"(?P<name>.+): the file has a header line but no rows to import"),
        "{name}: tệp có dòng tiêu đề nhưng không có dòng nào để nhập.",
    ),
    (
        re.compile(r"(?P<name>.+) after line (?P<line>\d+): is not UTF-8 text; (?P<advice>.+)"),
        "{name} sau dòng {line}: không phải văn bản UTF-8; trong Excel hãy lưu thành 'CSV UTF-8 (Comma delimited)'.",
    ),
    (
        re.compile(r"(?P<name>.+) line (?P<line>\d+): cannot be read as CSV \((?P<why>.*)\)"),
        "{name} dòng {line}: không đọc được dạng CSV ({why}).",
    ),
    (
        re.compile(r"(?P<name>.+): the file is empty; the first line must name the columns"),
        "{name}: tệp trống; dòng đầu tiên phải ghi tên các cột.",
    ),
    (
        re.compile(r"columns '(?P<first>[^']*)' and '(?P<second>[^']*)' both give the (?P<what>.+); keep one of them"),
        "Cột '{first}' và cột '{second}' cùng ghi {what}; hãy giữ một cột.",
    ),
    (
        re.compile(r"no column for '(?P<what>[^']+)' \(or (?P<spellings>.*)\); the columns found are (?P<found>.*)"),
        "Không có cột '{what}' (hoặc {spellings}); các cột có trong tệp: {found}.",
    ),
    (
        re.compile(
            r"columns? (?P<names>.+) (?:are not ones|is not one) an? (?P<kind>\w+) file has; "
            r"the accepted columns are (?P<accepted>.*)"
        ),
        "Cột {names} không dùng cho tệp {kind}; các cột được nhận: {accepted}.",
    ),
    (
        re.compile(
            r"column (?P<index>\d+) holds a NUL character, which no text may hold \(is the file a text export\?\)"
        ),
        "Cột {index} có ký tự NUL, văn bản không được có ký tự này (tệp có phải xuất ra dạng văn bản không?).",
    ),
    (
        re.compile(r"column (?P<index>\d+) holds '(?P<cell>.*)' but has no name in the header line"),
        "Cột {index} có '{cell}' nhưng dòng tiêu đề không đặt tên cho cột này.",
    ),
    (
        re.compile(r"the previewed file is no longer kept: upload it again"),
        "Tệp đã xem trước không còn được giữ: hãy tải lên lại.",
    ),
    (
        re.compile(r"the file chosen before is no longer kept: choose it again"),
        "Tệp đã chọn trước đó không còn được giữ: hãy chọn lại.",
    ),
    (
        re.compile(r"subscribers go into a list: name it \(for example (?P<example>[^)]+)\)"),
        "Thuê bao phải thuộc một danh sách: hãy đặt tên danh sách (ví dụ {example}).",
    ),
    (
        re.compile(r"list name '(?P<slug>[^']+)' must be lower-case letters, digits and hyphens"),
        "Tên danh sách '{slug}' chỉ được gồm chữ thường, chữ số và dấu gạch ngang.",
    ),
    # ---- accounts, permissions, phone numbers
    (
        re.compile(r"'(?P<login>[^']+)' may not do this: it needs the permission (?P<permission>\S+) \((?P<what>.*)\)"),
        "{login} không được làm việc này: cần quyền {permission}.",
    ),
    (
        re.compile(r"'(?P<raw>.*)' is not a valid Vietnamese phone number"),
        "'{raw}' không phải số điện thoại Việt Nam hợp lệ.",
    ),
    (re.compile(r"'(?P<raw>.*)' is not a phone number"), "'{raw}' không phải số điện thoại."),
    (
        re.compile(r"'(?P<raw>.*)' is not a phone number: it holds characters other than digits"),
        "'{raw}' không phải số điện thoại: có ký tự không phải chữ số.",
    ),
    (re.compile(r"the phone number is empty"), "Chưa có số điện thoại."),
    (
        re.compile(r"'(?P<raw>.*)' is a landline, not a mobile number that can receive SMS"),
        "'{raw}' là số cố định, không phải số di động nhận được SMS.",
    ),
    (
        re.compile(
            r"'(?P<raw>.*)' is a number the spreadsheet shortened to scientific notation, which loses digits; "
            r"format the column as Text and export it again"
        ),
        "'{raw}' là số bị bảng tính rút gọn thành dạng khoa học nên mất chữ số; hãy định dạng cột là Văn bản "
        "(Text) rồi xuất lại.",
    ),
    # ---- campaigns: fields, timetable rules, audiences, texts
    (
        re.compile(r"there is no campaign '(?P<slug>[^']+)' \(see 'broadcaster campaign list'\)"),
        "Không có chiến dịch {slug}.",
    ),
    (
        re.compile(r"'(?P<name>[^']+)' is a name templates use for something else; choose another"),
        "'{name}' là tên mà mẫu dùng cho việc khác; hãy chọn tên khác.",
    ),
    (
        re.compile(r"'(?P<name>[^']+)' is not used by template '(?P<template>[^']+)' \(a misspelt name\?\)"),
        "Mẫu '{template}' không dùng '{name}' (viết sai tên?).",
    ),
    (
        re.compile(r"the campaign has no texts of template '(?P<template>[^']+)' to send"),
        "Chiến dịch không có nội dung nào của mẫu '{template}' để gửi.",
    ),
    (
        re.compile(r"'(?P<name>[^']+)' is not a channel \(known channels: (?P<known>.*)\)"),
        "'{name}' không phải một kênh (các kênh: {known}).",
    ),
    (
        re.compile(r"issuer '(?P<slug>[^']+)' is not known \(known issuers: (?P<known>.*)\)"),
        "Không có cơ quan ban hành '{slug}' (các cơ quan: {known}).",
    ),
    (re.compile(r"issuer '(?P<slug>[^']+)' is not known"), "Không có cơ quan ban hành '{slug}'."),
    (
        re.compile(r"the validity window ended on (?P<day>\S+), before today: nothing will be sent"),
        "Thời gian hiệu lực đã hết vào {day}, trước hôm nay: sẽ không gửi gì.",
    ),
    (
        re.compile(r"(?P<at>.+) is already past: this rule sends nothing"),
        "{at} đã qua: quy tắc này không gửi gì.",
    ),
    (
        re.compile(r"runs until (?P<last>\S+), already past: this rule sends nothing"),
        "Chạy đến {last}, đã qua: quy tắc này không gửi gì.",
    ),
    (
        re.compile(r"(?P<at>.+) is outside the validity window (?P<starts>\S+) to (?P<ends>\S+)"),
        "{at} nằm ngoài thời gian hiệu lực từ {starts} đến {ends}.",
    ),
    (
        re.compile(
            r"runs (?P<first>\S+) to (?P<last>\S+), outside the validity window (?P<starts>\S+) to (?P<ends>\S+)"
        ),
        "Chạy từ {first} đến {last}, ngoài thời gian hiệu lực từ {starts} đến {ends}.",
    ),
    (
        re.compile(r"ends \((?P<last>.+)\) before it starts \((?P<first>.+)\)"),
        "Ngày kết thúc ({last}) trước ngày bắt đầu ({first}).",
    ),
    (
        re.compile(r"'(?P<cron>.+)' never fires within its dates"),
        "'{cron}' không lần nào phát trong khoảng ngày của nó.",
    ),
    (
        re.compile(r"(?P<day>\S+) is not a date a campaign can use \(from (?P<first>\d+) to (?P<last>\d+)\)"),
        "{day} không phải ngày chiến dịch dùng được (từ năm {first} đến năm {last}).",
    ),
    (
        re.compile(r"the slot (?P<slots>.+) is named twice: name each slot once"),
        "Khung giờ {slots} được ghi hai lần: mỗi khung giờ chỉ ghi một lần.",
    ),
    (
        re.compile(r"slots are broadcast times of radio stations; this audience has none"),
        "Khung giờ là giờ phát của đài truyền thanh; đối tượng nhận này không có khung giờ.",
    ),
    (
        re.compile(r"station '(?P<slug>[^']+)' has no slot '(?P<slot>[^']+)' \(its slots: (?P<known>.*)\)"),
        "Đài {slug} không có khung giờ '{slot}' (các khung giờ của đài: {known}).",
    ),
    (
        re.compile(r"area '(?P<code>[^']+)' is not in the area list"),
        "Khu vực '{code}' không có trong danh sách khu vực.",
    ),
    (re.compile(r"a campaign file must be a mapping of fields"), "Tệp chiến dịch phải là danh sách các mục có tên."),
    (
        re.compile(r"'(?P<text>[^']+)' names (?P<kinds>\w+), but (?P<channel>\w+) sends to (?P<to>\w+)"),
        "'{text}' chỉ {kinds}, nhưng kênh {channel} gửi tới {to}.",
    ),
    (
        re.compile(r"'(?P<text>[^']+)' is not an audience; write one of (?P<known>.*)"),
        "'{text}' không phải đối tượng nhận; hãy ghi một trong: {known}.",
    ),
    (
        re.compile(r"'(?P<text>[^']+)' should be '(?P<scope>[^']+):all' \(name one with '(?P<one>[^']+):NAME'\)"),
        "'{text}' phải là '{scope}:all' (hoặc ghi một đối tượng: '{one}:TÊN').",
    ),
    (
        re.compile(r"campaign '(?P<slug>[^']+)' has no (?P<channel>\w+) channel in this version"),
        "Phiên bản này của chiến dịch {slug} không có kênh {channel}.",
    ),
    (
        re.compile(r"campaign '(?P<slug>[^']+)' is (?P<state>\w+): an edit of it is a revision, approved beside it"),
        "Chiến dịch {slug} đang ở trạng thái {state}: sửa chiến dịch này là tạo bản sửa đổi, được phê duyệt riêng.",
    ),
    (
        re.compile(
            r"the revision of campaign '(?P<slug>[^']+)' already waits for approval \(version (?P<number>\d+)\)"
        ),
        "Bản sửa đổi của chiến dịch {slug} đang chờ phê duyệt (phiên bản {number}).",
    ),
    (
        re.compile(r"the revision of campaign '(?P<slug>[^']+)' is still being drafted: it must be submitted first"),
        "Bản sửa đổi của chiến dịch {slug} vẫn đang soạn: cần trình duyệt trước.",
    ),
    # ---- fallbacks: a channel that sends only to whom another could not reach (the SMS after Zalo)
    (
        re.compile(
            r"(?P<ch>\w+) has no timetable, so it sends nothing: give it one, or make it another channel's fallback"
        ),
        "Kênh {ch} chưa có lịch phát nên sẽ không gửi gì: hãy thêm lịch phát, hoặc cho kênh này gửi thay cho kênh "
        "khác khi kênh đó không tới được người nhận.",
    ),
    (re.compile(r"(?P<ch>\w+) has no audience: name who receives it"), "Kênh {ch} chưa có đối tượng nhận: hãy chọn."),
    (
        re.compile(
            r"(?P<ch>\w+) is (?P<src>\w+)'s fallback, so it sends only to whom (?P=src) could not reach: leave its "
            r"timetable empty \(with a timetable of its own, everyone would get both\)"
        ),
        "Kênh {ch} chỉ gửi cho người {src} không tới được: hãy để trống lịch phát của kênh {ch} (có lịch phát riêng "
        "thì mọi người sẽ nhận cả hai).",
    ),
    (
        re.compile(r"(?P<ch>\w+) is (?P<src>\w+)'s fallback and sends to (?P=src)'s audience: leave it empty"),
        "Kênh {ch} chỉ gửi cho người {src} không tới được, trong đối tượng nhận của {src}: hãy để trống đối tượng "
        "nhận của kênh {ch}.",
    ),
    (
        re.compile(r"(?P<ch>\w+) cannot be its own fallback: name another of the campaign's channels"),
        "Kênh {ch} không thể gửi thay cho chính nó: hãy chọn một kênh khác của chiến dịch.",
    ),
    (
        re.compile(r"the campaign has no channel '(?P<dst>\w+)' to fall back to: add it \(its text is what is sent\)"),
        "Chiến dịch chưa có kênh {dst} để gửi thay: hãy bật kênh {dst} (nội dung của kênh đó là nội dung được gửi).",
    ),
    (
        re.compile(r"(?P<dst>\w+) has a fallback of its own: a fallback cannot fall back again"),
        "Kênh {dst} đã có kênh gửi thay của riêng nó: kênh gửi thay không thể lại nhờ kênh khác gửi thay.",
    ),
    (
        re.compile(
            r"(?P<ch>\w+) sends to (?P<kind1>\w+), (?P<dst>\w+) to (?P<kind2>\w+): "
            r"a fallback must reach the same recipients"
        ),
        "Kênh {ch} gửi tới {kind1}, kênh {dst} gửi tới {kind2}: kênh gửi thay phải tới cùng những người nhận.",
    ),
    (re.compile(r"should be greater than or equal to (?P<n>\d+)"), "Phải từ {n} trở lên."),
    (re.compile(r"should be less than or equal to (?P<n>\d+)"), "Phải không quá {n}."),
    # ---- Zalo's ZNS templates: the campaign's values against the template Zalo approved
    (
        re.compile(r"the campaign names no ZNS template for Zalo \(template_id\)"),
        "Chiến dịch chưa chọn mẫu tin ZNS cho Zalo: hãy chọn mẫu.",
    ),
    (
        re.compile(
            r"the directory has no ZNS template (?P<id>\d+): import the OA's templates "
            r"\(broadcaster directory import zalo-templates FILE\)"
        ),
        "Danh bạ không có mẫu ZNS {id}: hãy nhập các mẫu của OA (lệnh broadcaster directory import zalo-templates "
        "TỆP).",
    ),
    (
        re.compile(r"ZNS template (?P<id>\d+) has no parameter '(?P<param>[^']+)' for the text"),
        "Mẫu ZNS {id} không có tham số '{param}' để nhận nội dung.",
    ),
    (
        re.compile(r"ZNS template (?P<id>\d+) has no parameter '(?P<param>[^']+)'"),
        "Mẫu ZNS {id} không có tham số '{param}'.",
    ),
    (
        re.compile(r"the value of '(?P<param>[^']+)' is (?P<n>\d+) characters, over the template's (?P<limit>\d+)"),
        "Giá trị của '{param}' dài {n} ký tự, quá {limit} ký tự mẫu cho phép.",
    ),
    (
        re.compile(r"ZNS template (?P<id>\d+) needs a value for '(?P<param>[^']+)'"),
        "Mẫu ZNS {id} cần giá trị cho tham số '{param}'.",
    ),
    (
        re.compile(
            r"the Zalo text is (?P<n>\d+) characters, over the (?P<limit>\d+) that ZNS template (?P<id>\d+) allows "
            r"for '(?P<param>[^']+)'"
        ),
        "Nội dung Zalo dài {n} ký tự, quá {limit} ký tự mẫu ZNS {id} cho phép ở tham số '{param}'.",
    ),
    # ---- the channels' checks: lengths, SMS parts, radio readings, Facebook repeats
    (
        re.compile(r"the (?P<channel>\w+) text is (?P<length>\d+) characters, over the limit of (?P<limit>\d+)"),
        "Nội dung {channel} dài {length} ký tự, quá giới hạn {limit}.",
    ),
    (
        re.compile(
            r"the SMS is (?P<parts>\d+) parts \((?P<length>\d+) characters, (?P<encoding>[\w-]+)\) but max_parts is "
            r"(?P<max>\d+); unaccented it would be (?P<plain>\d+) parts \((?P<plain_length>\d+) characters, "
            r"(?P<plain_encoding>[\w-]+)\)"
        ),
        "Tin SMS dài {parts} phần ({length} ký tự, {encoding}) nhưng chỉ được tối đa {max} phần; viết không dấu "
        "sẽ là {plain} phần ({plain_length} ký tự, {plain_encoding}).",
    ),
    (
        re.compile(
            r"the radio script leaves (?P<words>.+) for the announcer to decode; write it out in words or add the "
            r"abbreviation to the issuer's reading dictionary \(readings: in its profile\)"
        ),
        "Bài truyền thanh còn {words} mà phát thanh viên phải tự đoán cách đọc; hãy viết thành chữ hoặc thêm "
        "cách đọc vào từ điển đọc của cơ quan (mục cách đọc trong hồ sơ cơ quan).",
    ),
    (
        re.compile(
            r"fires on (?P<first>.+?) and (?P<second>.+?) with the same (?P<channel>\w+) text \((?P<locale>\w+)\), "
            r"and \w+ refuses a repeated post: put the date \(.*\) or a line that changes in the template"
        ),
        "Phát lúc {first} và {second} với cùng một nội dung {channel} ({locale}), mà {channel} từ chối bài đăng "
        "lặp lại: hãy thêm ngày đăng hoặc một dòng thay đổi vào nội dung.",
    ),
    # ---- monitor actions: send now, test sends, retries, pauses
    (
        re.compile(
            r"campaign '(?P<slug>[^']+)' is (?P<state>\w+); only an approved or active campaign can be sent now"
        ),
        "Chiến dịch {slug} đang ở trạng thái {state}; chỉ chiến dịch đã phê duyệt hoặc đang phát mới gửi ngay được.",
    ),
    (
        re.compile(r"campaign '(?P<slug>[^']+)' has no (?P<channel>\w+) channel \(it has (?P<known>.*)\)"),
        "Chiến dịch {slug} không có kênh {channel} (các kênh: {known}).",
    ),
    (
        re.compile(r"the draft of campaign '(?P<slug>[^']+)' has no (?P<channel>\w+) channel \(it has (?P<known>.*)\)"),
        "Bản nháp của chiến dịch {slug} không có kênh {channel} (các kênh: {known}).",
    ),
    (
        re.compile(r"cannot send '(?P<slug>[^']+)' on (?P<channel>\w+) now: (?P<reason>.+)"),
        "Không thể gửi chiến dịch {slug} trên kênh {channel} lúc này: {reason}",
    ),
    (re.compile(r"the campaign is (?P<state>\w+)"), "chiến dịch đang ở trạng thái {state}."),
    (re.compile(r"the campaign no longer has this channel"), "chiến dịch không còn kênh này."),
    (
        re.compile(r"the (?P<channel>\w+) channel is paused: (?P<why>.+)"),
        "kênh {channel} đang tạm dừng: {why}.",
    ),
    (
        re.compile(r"(?P<day>\S+) is outside the campaign's validity window (?P<starts>\S+) to (?P<ends>\S+)"),
        "ngày {day} nằm ngoài thời gian hiệu lực của chiến dịch, từ {starts} đến {ends}.",
    ),
    (
        re.compile(r"campaign '(?P<slug>[^']+)' is (?P<state>\w+): its failed deliveries cannot be sent again"),
        "Chiến dịch {slug} đang ở trạng thái {state}: không gửi lại được các lần gửi thất bại.",
    ),
    (
        re.compile(
            r"campaign '(?P<slug>[^']+)' was valid until (?P<day>\S+): nothing is sent after its validity window, "
            r"so its failed deliveries cannot be sent again"
        ),
        "Chiến dịch {slug} chỉ có hiệu lực đến {day}: không gửi gì sau thời gian hiệu lực, nên không gửi lại được "
        "các lần gửi thất bại.",
    ),
    (
        re.compile(r"test lists hold phone numbers: only the sms channel can be sent to them, not (?P<channel>\w+)"),
        "Danh sách thử nghiệm chỉ gồm số điện thoại: chỉ gửi thử được kênh SMS, không gửi được kênh {channel}.",
    ),
    (
        re.compile(r"no subscriber list is marked as test: mark one \(the directory's lists\) before a test send"),
        "Chưa có danh sách thuê bao nào được đánh dấu thử nghiệm: hãy đánh dấu một danh sách (mục Danh sách trong "
        "danh bạ) trước khi gửi thử.",
    ),
    (
        re.compile(r"the (?P<channel>\w+) channel of '(?P<slug>[^']+)' is not paused"),
        "Kênh {channel} của chiến dịch {slug} không tạm dừng.",
    ),
    (
        re.compile(r"type an address to search for: an e-mail address, a phone number or a station or page key"),
        "Hãy nhập địa chỉ cần tìm: địa chỉ e-mail, số điện thoại, hoặc mã đài hay mã trang.",
    ),
    (
        re.compile(r"'(?P<action>[^']+)' is not a campaign action \((?P<known>.*)\)"),
        "'{action}' không phải thao tác trên chiến dịch ({known}).",
    ),
    (
        re.compile(r"say why the campaign goes back: a reason is required"),
        "Hãy cho biết lý do trả lại chiến dịch: cần ghi lý do.",
    ),
    # ---- the directory's entries and issuer numbers
    (
        re.compile(
            r"'(?P<kind>[^']+)' is not something added one at a time \(agencies, stations, pages or subscribers\)"
        ),
        "'{kind}' không thêm từng mục được (chỉ cơ quan, đài truyền thanh, trang hoặc thuê bao).",
    ),
    (
        re.compile(r"there is no (?P<kind>[\w ]+) '(?P<key>[^']+)' in the directory"),
        "Danh bạ không có '{key}'.",
    ),
    (
        re.compile(
            r"'(?P<login>[^']+)' proposed these numbers and may not approve them too \(two-person rule\): "
            r"another approver must"
        ),
        "{login} đã đề xuất các số này nên không thể tự phê duyệt (nguyên tắc hai người): cần một người phê duyệt "
        "khác.",
    ),
    # ---- accounts and tokens
    (
        re.compile(r"'(?P<role>[^']+)' is not a role; choose one of (?P<known>.*)"),
        "'{role}' không phải một vai trò; hãy chọn một trong: {known}.",
    ),
    (re.compile(r"an account '(?P<login>[^']+)' already exists"), "Đã có tài khoản '{login}'."),
    (re.compile(r"there is no account '(?P<login>[^']+)'"), "Không có tài khoản '{login}'."),
    (
        re.compile(
            r"the account name '(?P<login>[^']+)' looks like the existing account '(?P<other>[^']+)': "
            r"choose a name nobody can mistake for another"
        ),
        "Tên tài khoản '{login}' trông giống tài khoản đã có '{other}': hãy chọn tên không thể nhầm lẫn.",
    ),
    (re.compile(r"the account name is empty"), "Chưa có tên tài khoản."),
    (re.compile(r"the account name is longer than (?P<n>\d+) characters"), "Tên tài khoản dài quá {n} ký tự."),
    (re.compile(r"the display name is longer than (?P<n>\d+) characters"), "Tên hiển thị dài quá {n} ký tự."),
    (re.compile(r"the password is longer than (?P<n>\d+) characters"), "Mật khẩu dài quá {n} ký tự."),
    (
        re.compile(r"the password is too short: use at least (?P<n>\d+) characters"),
        "Mật khẩu quá ngắn: cần ít nhất {n} ký tự.",
    ),
    (
        re.compile(
            r"the (?P<field>[\w ]+) contains an invisible, direction or control character \((?P<code>U\+\w+)\); "
            r"type it again without it"
        ),
        "{field} có ký tự ẩn, ký tự đổi chiều hoặc ký tự điều khiển ({code}); hãy gõ lại không có ký tự đó.",
    ),
    (
        re.compile(r"give the token a name of (?P<low>\d+) to (?P<high>\d+) characters \(what or who will use it\)"),
        "Hãy đặt tên cho mã truy cập, từ {low} đến {high} ký tự (việc gì hoặc ai sẽ dùng).",
    ),
    (
        re.compile(
            r"'(?P<login>[^']+)' may manage only their own tokens: another account's need the permission users:manage"
        ),
        "{login} chỉ quản lý được mã truy cập của chính mình: mã của tài khoản khác cần quyền users:manage.",
    ),
    (
        re.compile(r"the account '(?P<login>[^']+)' is disabled: enable it before giving it a token"),
        "Tài khoản '{login}' đang bị khóa: hãy mở khóa trước khi cấp mã truy cập.",
    ),
    (re.compile(r"there is no token (?P<number>\d+) of yours"), "Bạn không có mã truy cập {number}."),
    (
        re.compile(r"you cannot disable your own account: ask another administrator"),
        "Bạn không thể tự khóa tài khoản của mình: hãy nhờ một quản trị viên khác.",
    ),
    (re.compile(r"the token's expiry is in the past"), "Hạn dùng của mã truy cập đã qua."),
    (re.compile(r"there is no token (?P<number>\d+)"), "Không có mã truy cập {number}."),
    (
        re.compile(r"'(?P<raw>.*)' is in a mobile range the numbering plan does not list \(.*\)"),
        "'{raw}' thuộc dải số di động chưa có trong kế hoạch đánh số.",
    ),
    # ---- the directory's rows: what a row of an import is refused or warned for
    (
        re.compile(r"'(?P<value>.*)' is not a date \(write 2025-06-30 or 30/06/2025\)"),
        "'{value}' không phải ngày (ghi 2025-06-30 hoặc 30/06/2025).",
    ),
    (
        re.compile(r"'(?P<value>.*)' is not an abbreviation or a word \(no spaces around, one between\)"),
        "'{value}' không phải chữ viết tắt hay một từ (không có dấu cách ở đầu và cuối, một dấu cách giữa các từ).",
    ),
    (re.compile(r"'(?P<value>.*)' is not an e-mail address"), "'{value}' không phải địa chỉ e-mail."),
    (
        re.compile(r"'(?P<kind>[^']+)' is not something a CSV file is imported into; choose one of (?P<known>.*)"),
        "'{kind}' không nhập được bằng tệp CSV; hãy chọn một trong: {known}.",
    ),
    (
        re.compile(
            r"'(?P<raw>.*)' looks like a mobile number but its range is not in the numbering plan this program "
            r"knows; it was imported: check the number"
        ),
        "'{raw}' giống số di động nhưng dải số chưa có trong kế hoạch đánh số mà chương trình biết; số vẫn được "
        "nhập: hãy kiểm tra lại số.",
    ),
    (re.compile(r"area '(?P<code>[^']+)' cannot replace itself"), "Khu vực '{code}' không thể thay thế chính nó."),
    (
        re.compile(r"area '(?P<code>[^']+)' ends \((?P<ends>[^)]+)\) before it starts \((?P<starts>[^)]+)\)"),
        "Khu vực '{code}' kết thúc ({ends}) trước khi bắt đầu ({starts}).",
    ),
    (
        re.compile(r"area '(?P<code>[^']+)' is not in the area list \(import areas first\)"),
        "Khu vực '{code}' không có trong danh sách khu vực (hãy nhập danh sách khu vực trước).",
    ),
    (
        re.compile(r"area '(?P<code>[^']+)' names successors but no valid_until \(the last day it existed\)"),
        "Khu vực '{code}' có khu vực kế tiếp nhưng chưa có valid_until (ngày cuối cùng khu vực còn tồn tại).",
    ),
    (
        re.compile(
            r"(?P<what>area code|page code|station code) '(?P<code>[^']+)' must be lower-case letters, "
            r"digits and hyphens"
        ),
        "Mã '{code}' chỉ được gồm chữ thường, chữ số và dấu gạch ngang.",
    ),
    (
        re.compile(r"folder '(?P<folder>[^']+)' may hold only letters, digits, '-', '_' and '\.'"),
        "Thư mục '{folder}' chỉ được gồm chữ cái, chữ số, '-', '_' và '.'.",
    ),
    (
        re.compile(r"folder '(?P<folder>[^']+)' must be a plain name inside the radio output folder"),
        "Thư mục '{folder}' phải là một tên đơn giản nằm trong thư mục phát thanh.",
    ),
    (
        re.compile(r"opt-out '(?P<value>[^']*)' is not a value this import knows; (?P<rest>.*)"),
        "Giá trị từ chối nhận tin '{value}' không hợp lệ; ghi x, có, từ chối, hủy, yes cho số đã từ chối nhận tin, "
        "hoặc để trống (hay không, chưa, no) cho số vẫn nhận.",
    ),
    (
        re.compile(r"opt-out date '(?P<value>[^']*)' must be a real day written DD/MM/YYYY or YYYY-MM-DD"),
        "Ngày từ chối nhận tin '{value}' phải là ngày có thật, ghi DD/MM/YYYY hoặc YYYY-MM-DD.",
    ),
    (
        re.compile(r"page id '(?P<value>[^']*)' must be the page's numeric id"),
        "Mã trang '{value}' phải là mã số của trang.",
    ),
    (
        re.compile(r"parent area '(?P<code>[^']+)' is not known \(list parents before their children\)"),
        "Không có khu vực cấp trên '{code}' (hãy ghi khu vực cấp trên trước các khu vực trực thuộc).",
    ),
    (
        re.compile(r"slot '(?P<slot>[^']*)' must be a name and a time, like 'morning 05:30'"),
        "Khung giờ '{slot}' phải gồm tên và giờ, ví dụ 'sáng 05:30'.",
    ),
    (
        re.compile(r"station '(?P<slug>[^']+)' is already on line (?P<line>\d+)"),
        "Đài '{slug}' đã có ở dòng {line}.",
    ),
    (
        re.compile(r"successor area '(?P<code>[^']+)' is neither in this file nor in the area list"),
        "Khu vực kế tiếp '{code}' không có trong tệp này cũng như trong danh sách khu vực.",
    ),
    (
        re.compile(r"a locale cannot be empty \(write a language tag such as vi or en\)"),
        "Chưa có ngôn ngữ (ghi mã ngôn ngữ như vi hoặc en).",
    ),
    (
        re.compile(r"'(?P<value>.*)' is not a language tag \(write one such as vi, en or vi-VN\)"),
        "'{value}' không phải mã ngôn ngữ (ghi như vi, en hoặc vi-VN).",
    ),
    (
        re.compile(r"'(?P<value>.*)' names no known language \(write a language tag such as vi, en or vi-VN\)"),
        "'{value}' không phải ngôn ngữ nào đã biết (ghi mã ngôn ngữ như vi, en hoặc vi-VN).",
    ),
    (
        re.compile(r"'(?P<value>.*)' is longer than (?P<n>\d+) characters \(write a shorter tag such as vi-VN\)"),
        "'{value}' dài quá {n} ký tự (ghi mã ngắn hơn như vi-VN).",
    ),
    (re.compile(r"the agency has no e-mail address"), "Cơ quan chưa có địa chỉ e-mail."),
    (re.compile(r"the agency has no name"), "Cơ quan chưa có tên."),
    (re.compile(r"the agency's name (?P<reason>.+)"), "Tên cơ quan {reason}"),
    (re.compile(r"the name (?P<reason>.+)"), "Tên {reason}"),
    (
        re.compile(r"the (?:agency|page)'s English name or locale: (?P<reason>.+)"),
        "Tên tiếng Anh hoặc ngôn ngữ: {reason}",
    ),
    (
        re.compile(r"holds a line break or a control character \((?P<code>U\+\w+)\): write it on one line"),
        "có dấu xuống dòng hoặc ký tự điều khiển ({code}): hãy viết trên một dòng.",
    ),
    (
        re.compile(r"the opt-out date is (?P<day>\S+) but the opt-out cell says the number did not opt out"),
        "Ngày từ chối nhận tin là {day} nhưng ô từ chối nhận tin ghi là số này không từ chối.",
    ),
    (
        re.compile(r"the reading of '(?P<short>[^']+)' must be words an announcer reads, not '(?P<words>.*)'"),
        "Cách đọc của '{short}' phải là chữ mà phát thanh viên đọc được, không phải '{words}'.",
    ),
    (
        re.compile(r"the slot name '(?P<slot>[^']+)' is given twice \((?P<first>.+) and (?P<second>.+)\): .*"),
        "Tên khung giờ '{slot}' được ghi hai lần ({first} và {second}): mỗi khung giờ cần tên riêng, ví dụ "
        "'sáng 05:30; sáng2 06:30'.",
    ),
    (
        re.compile(r"the station has no broadcast slots \(like 'morning 05:30; evening 17:00'\)"),
        "Đài chưa có khung giờ phát (ví dụ 'sáng 05:30; chiều 17:00').",
    ),
    (re.compile(r"there is no subscriber list '(?P<slug>[^']+)'"), "Không có danh sách thuê bao '{slug}'."),
    (re.compile(r"there is no station '(?P<slug>[^']+)'"), "Không có đài truyền thanh '{slug}'."),
    (re.compile(r"there is no issuer '(?P<slug>[^']+)'"), "Không có cơ quan ban hành '{slug}'."),
    (
        re.compile(r"issuer '(?P<slug>[^']+)' has no numbers waiting for approval"),
        "Cơ quan {slug} không có số điện thoại nào đang chờ phê duyệt.",
    ),
)

# The lifecycle's states (the state a campaign is in, those an action needs) and its actions, as refusals name them.
_STATES = {
    "draft": "bản nháp",
    "submitted": "chờ phê duyệt",
    "approved": "đã phê duyệt",
    "active": "đang phát",
    "paused": "tạm dừng",
    "completed": "đã xong",
    "cancelled": "đã hủy",
}
_FIELDS = {"account name": "tên tài khoản", "display name": "tên hiển thị"}
# Channels and whom they send to, as the fallback's refusals name them.
_CHANNELS = {"email": "thư điện tử", "sms": "SMS", "zalo": "Zalo", "facebook": "Facebook", "radio": "truyền thanh"}
_KINDS = {"subscribers": "thuê bao", "agencies": "cơ quan", "stations": "đài truyền thanh", "pages": "trang Facebook"}
_ACTIONS = {
    "submitted": "được trình duyệt",
    "returned to draft": "được trả lại",
    "approved": "được phê duyệt",
    "activated": "bắt đầu phát",
    "paused": "được tạm dừng",
    "resumed": "được tiếp tục",
    "completed": "kết thúc",
    "cancelled": "bị hủy",
}


# A field path before a problem's sentence ("channels.sms.schedule[0]: …") stays as written.
_WHERE = re.compile(r"(?P<where>line \d+|[\w.\[\]-]+): (?P<rest>.+)", re.DOTALL)


def in_language(sentence: str, lang: str) -> str:
    """The core's sentence in `lang` ("vi" or "en"); as said when no pattern knows it."""
    if lang != "vi":
        return sentence
    text = sentence.strip()
    bare = text.removesuffix(".")
    for candidate in (bare, bare[:1].lower() + bare[1:]):
        for pattern, vietnamese in _VIETNAMESE:
            if (matched := pattern.fullmatch(candidate)) is None:
                continue
            parts = matched.groupdict()
            if "reason" in parts and in_language(parts["reason"], lang) == parts["reason"]:
                continue  # a refusal around one this module cannot say: better all English than half
            return vietnamese.format(**_spoken(parts))
    if (located := _WHERE.fullmatch(bare)) is not None:
        rest = in_language(located["rest"], lang)
        if rest != located["rest"]:
            where = re.sub(r"^line (\d+)$", r"dòng \1", located["where"])
            return f"{where}: {rest[:1].lower() + rest[1:]}"
    return sentence


def _spoken(parts: dict[str, str]) -> dict[str, str]:
    """Captured states and actions in Vietnamese; names and numbers as they were."""
    spoken = dict(parts)
    for name in ("state", "allowed"):
        if name in spoken:
            spoken[name] = " hoặc ".join(_STATES.get(state, state) for state in spoken[name].split(" or "))
    for name in ("ch", "src", "dst"):
        if name in spoken:
            spoken[name] = _CHANNELS.get(spoken[name], spoken[name])
    for name in ("kind1", "kind2"):
        if name in spoken:
            spoken[name] = _KINDS.get(spoken[name], spoken[name])
    if "field" in spoken:
        spoken["field"] = _FIELDS.get(spoken["field"], spoken["field"])
    if "action" in spoken:
        spoken["action"] = _ACTIONS.get(spoken["action"], spoken["action"])
    if spoken.get("why") == "by staff":
        spoken["why"] = "do cán bộ tạm dừng"
    if "reason" in spoken:  # a refusal inside a refusal ("cannot send …: the campaign is paused")
        spoken["reason"] = in_language(spoken["reason"], "vi")
    return spoken


def said(sentence: str, lang: str) -> str:
    """A core sentence as the console shows it: in `lang`, with a capital and a full stop."""
    text = in_language(sentence, lang).strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def sentences_of(exc: UserError, lang: str) -> list[str]:
    """What a refusal says, in `lang`: each problem of an InvalidInput, else its one sentence."""
    if isinstance(exc, InvalidInput) and exc.problems:
        return [said(str(problem), lang) for problem in exc.problems]
    return [said(str(exc), lang)]


def sentence_of(exc: UserError, lang: str) -> str:
    return " ".join(sentences_of(exc, lang))
