"""The directory pages: a CSV import previewed before anything is written, then confirmed; the lists (test
lists marked), agencies, stations and Facebook pages; issuer profiles edited in a form, hotlines included."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from broadcaster.accounts import Actor
from broadcaster.directory import NothingImported
from broadcaster.errors import UserError
from broadcaster.operations import directory as directory_ops
from broadcaster.operations import staged_imports
from broadcaster.problems import InvalidInput
from broadcaster.settings import Settings
from broadcaster.web.auth import DbSession
from broadcaster.web.console.pages import (
    FormState,
    NavItem,
    console_router,
    page_for,
    register_nav,
    render,
    settings_of,
    words_of,
)
from broadcaster.web.console.sentences import said, sentence_of
from broadcaster.web.console.words import language

router = console_router()
register_nav(NavItem(60, "directory", "/directory", "directory:read"))

Reader = Annotated[Actor, Depends(page_for("directory:read"))]
Manager = Annotated[Actor, Depends(page_for("directory:manage"))]
CSV_KINDS = ("subscribers", "agencies", "stations", "pages", "areas", "zalo-templates")
LISTINGS = {
    "lists": "subscribers",
    "agencies": "agencies",
    "stations": "stations",
    "pages": "pages",
    "areas": "areas",
}
SEARCHED = ("areas", "list")


async def _form_fields(request: Request) -> FormData:
    return await request.form()


Fields = Annotated[FormData, Depends(_form_fields)]


def _text(data: FormData, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


# ---- importing a CSV file: preview, then confirm -------------------------------------------------------------


@router.get("/directory", response_class=HTMLResponse)
def directory_home(request: Request, actor: Reader, kind: str = "subscribers") -> Response:
    """The import form, its kind chosen already when a link names one (`?kind=zalo-templates`)."""
    chosen = kind if kind in CSV_KINDS else "subscribers"
    return render(request, "directory.html", {"form": FormState(values={"kind": chosen}), "kinds": CSV_KINDS})


@router.post("/directory/import", response_class=HTMLResponse)
def stage_import(request: Request, session: DbSession, actor: Manager, data: Fields) -> Response:
    words = words_of(request)
    settings = settings_of(request)
    kind, list_slug, list_name = _text(data, "kind"), _text(data, "list_slug"), _text(data, "list_name")
    form = FormState(values={"kind": kind, "list_slug": list_slug, "list_name": list_name})
    chosen = _chosen_file(actor, settings, data)
    if chosen is None:
        form.fail("file", words["file_empty"])
        return render(request, "directory.html", {"form": form, "kinds": CSV_KINDS}, status_code=422)
    filename, content = chosen
    try:
        staged = staged_imports.stage_upload(
            session,
            actor,
            settings,
            kind,
            content,
            filename,
            list_slug=list_slug or None,
            list_name=list_name or None,
        )
    except UserError as exc:
        form.fail(
            "list_slug" if "list" in str(exc) and kind == "subscribers" else "file", sentence_of(exc, language(request))
        )
        # The file stays chosen: the person corrects the form and sends it again without looking for it.
        form.values |= {"kept": staged_imports.keep_upload(actor, settings, content, filename), "kept_name": filename}
        return render(request, "directory.html", {"form": form, "kinds": CSV_KINDS}, status_code=422)
    return RedirectResponse(f"/directory/import/{staged.token}", status_code=303)


def _chosen_file(actor: Actor, settings: Settings, data: FormData) -> tuple[str, bytes] | None:
    """The file sent with the form, else the one kept from the form's last refusal, else None."""
    upload = data.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        return upload.filename, upload.file.read()
    kept = _text(data, "kept")
    if not kept:
        return None
    try:
        return staged_imports.kept_upload(actor, settings, kept)
    except UserError:
        return None


@router.get("/directory/import/{token}", response_class=HTMLResponse)
def import_preview(request: Request, session: DbSession, actor: Manager, token: str) -> Response:
    staged = staged_imports.preview(session, actor, settings_of(request), token)
    return render(request, "directory_preview.html", {"staged": staged, "done": None})


@router.post("/directory/import/{token}", response_class=HTMLResponse)
def confirm_import(request: Request, session: DbSession, actor: Manager, token: str) -> Response:
    settings = settings_of(request)
    try:
        with session.begin_nested():
            report = staged_imports.confirm(session, actor, settings, token)
    except NothingImported:
        staged = staged_imports.preview(session, actor, settings, token)
        return render(request, "directory_preview.html", {"staged": staged, "done": None}, status_code=422)
    staged = staged_imports.preview(session, actor, settings, token)
    return render(request, "directory_preview.html", {"staged": staged, "done": directory_ops.summary(report)})


@router.get("/directory/import/{token}/{what}.csv")
def import_notes(request: Request, session: DbSession, actor: Manager, token: str, what: str) -> Response:
    if what not in ("rejected", "converted", "notes"):
        raise UserError(f"'{what}' is not a download of an import (rejected, converted or notes)")
    name, content = staged_imports.download(session, actor, settings_of(request), token, what)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(content, media_type="text/csv; charset=utf-8", headers=headers)


# ---- what the directory holds ----------------------------------------------------------------------------------


@router.get("/directory/{what}", response_class=HTMLResponse)
def listing(request: Request, session: DbSession, actor: Reader, what: str, q: str = "") -> Response:
    if what == "issuers":
        table = directory_ops.listing(session, actor, "issuers")
        return render(request, "directory_listing.html", {"what": what, "table": table, "tests": set()})
    if what == "zalo-templates":
        table = directory_ops.zalo_templates(session, actor)
        return render(request, "directory_listing.html", {"what": what, "table": table, "tests": set()})
    if what not in LISTINGS:
        raise UserError(f"the directory has no page '{what}'")
    table = directory_ops.listing(session, actor, LISTINGS[what], limit=1000, search=q)
    tests = directory_ops.test_lists(session, actor) if what == "lists" else set()
    return render(request, "directory_listing.html", {"what": what, "table": table, "tests": tests, "q": q})


@router.get("/directory/lists/{slug}", response_class=HTMLResponse)
def list_members(request: Request, session: DbSession, actor: Reader, slug: str, q: str = "") -> Response:
    """A subscriber list's numbers (the first thousand, or those that hold what was searched for)."""
    table = directory_ops.listing(session, actor, "subscribers", list_slug=slug, limit=1000, search=q)
    context = {"what": "list", "table": table, "tests": set(), "q": q, "list_slug": slug}
    return render(request, "directory_listing.html", context)


# ---- one agency, station or page, added or edited in a form ---------------------------------------------------

ENTRY_KINDS = {"agencies": "agencies", "stations": "stations", "pages": "pages"}


def _entry_kind(what: str) -> str:
    if what not in ENTRY_KINDS:
        raise UserError(f"the directory has no form for '{what}' (agencies, stations or pages)")
    return ENTRY_KINDS[what]


def _entry_page(request: Request, what: str, form: FormState, key: str, status_code: int = 200) -> Response:
    fields = directory_ops.ENTRY_FIELDS[_entry_kind(what)]
    context = {"what": what, "fields": fields, "form": form, "key": key}
    return render(request, "directory_entry.html", context, status_code=status_code)


@router.get("/directory/{what}/entry", response_class=HTMLResponse)
def entry_form(request: Request, session: DbSession, actor: Manager, what: str, key: str = "") -> Response:
    kind = _entry_kind(what)
    values = directory_ops.entry_values(session, actor, kind, key) if key else {}
    return _entry_page(request, what, FormState(values=values), key)


@router.post("/directory/{what}/entry", response_class=HTMLResponse)
def save_entry(request: Request, session: DbSession, actor: Manager, what: str, data: Fields) -> Response:
    kind = _entry_kind(what)
    fields = directory_ops.ENTRY_FIELDS[kind]
    values = {name: _text(data, name) for name in fields}
    key = _text(data, "editing")
    if key:
        values[fields[0]] = key  # an entry's key names it: changing it would make another entry
    try:
        with session.begin_nested():
            directory_ops.save_entry(session, actor, kind, values)
    except UserError as exc:
        form = FormState(values=values)
        form.fail("", sentence_of(exc, language(request)))
        return _entry_page(request, what, form, key, status_code=422)
    return RedirectResponse(f"/directory/{what}?saved=1", status_code=303)


@router.get("/directory/lists/{slug}/entry", response_class=HTMLResponse)
def subscriber_form(request: Request, session: DbSession, actor: Manager, slug: str) -> Response:
    directory_ops.listing(session, actor, "subscribers", list_slug=slug, limit=1)  # the list exists
    return _subscriber_page(request, slug, FormState(values={"locale": "vi"}))


def _subscriber_page(request: Request, slug: str, form: FormState, status_code: int = 200) -> Response:
    fields = directory_ops.ENTRY_FIELDS["subscribers"]
    context = {"what": "list", "fields": fields, "form": form, "key": "", "list_slug": slug}
    return render(request, "directory_entry.html", context, status_code=status_code)


@router.post("/directory/lists/{slug}/entry", response_class=HTMLResponse)
def save_subscriber(request: Request, session: DbSession, actor: Manager, slug: str, data: Fields) -> Response:
    """One number added to a list (or changed: the same number again), as a file of one row would."""
    values = {name: _text(data, name) for name in directory_ops.ENTRY_FIELDS["subscribers"]}
    try:
        with session.begin_nested():
            directory_ops.save_entry(session, actor, "subscribers", values, list_slug=slug)
    except UserError as exc:
        form = FormState(values=values)
        form.fail("", sentence_of(exc, language(request)))
        return _subscriber_page(request, slug, form, status_code=422)
    return RedirectResponse(f"/directory/lists/{slug}?saved=1", status_code=303)


@router.post("/directory/lists/{slug}/test", response_class=HTMLResponse)
def mark_test_list(request: Request, session: DbSession, actor: Manager, slug: str, data: Fields) -> Response:
    directory_ops.mark_test_list(session, actor, slug, _text(data, "is_test") == "yes")
    return RedirectResponse("/directory/lists", status_code=303)


# ---- issuer profiles --------------------------------------------------------------------------------------------

PROFILE_TEXTS = ("issuer", "body", "unit", "unit_name", "unit_short", "symbol", "place", "region", "locale")
OPTIONAL_TEXTS = ("area", "email", "website", "symbol_reading")
ENGLISH_NAMES = ("body", "unit", "unit_name", "unit_short")  # the profile's `english`, each optional
HOTLINE_FIELDS = ("number", "label", "contact", "label_en", "contact_en")


def _profile_values(profile: dict[str, Any]) -> dict[str, Any]:
    """A profile as the form's fields, named by the paths its problems carry (`hotlines[0].number`)."""
    values = {name: profile.get(name) or "" for name in (*PROFILE_TEXTS, *OPTIONAL_TEXTS)}
    values |= {f"signer.{name}": profile.get("signer", {}).get(name, "") for name in ("authority", "title", "name")}
    values |= {f"english.{name}": (profile.get("english") or {}).get(name, "") for name in ENGLISH_NAMES}
    values["hashtags"] = ", ".join(profile.get("hashtags", []))
    values["readings"] = "\n".join(f"{short} = {words}" for short, words in profile.get("readings", {}).items())
    values["hotlines"] = [*profile.get("hotlines", []), dict.fromkeys(HOTLINE_FIELDS, "")]
    values["official_numbers"] = [*profile.get("official_numbers", []), {"number": "", "purpose": ""}]
    return values


def _rows(data: FormData, name: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    rows = []
    for index in range(100):
        if f"{name}[{index}].{fields[0]}" not in data:
            break
        row = {field: _text(data, f"{name}[{index}].{field}") for field in fields}
        if any(row.values()):
            rows.append(row)
    return rows


def _profile_of(data: FormData) -> dict[str, Any]:
    profile: dict[str, Any] = {name: _text(data, name) for name in PROFILE_TEXTS}
    profile |= {name: _text(data, name) for name in OPTIONAL_TEXTS if _text(data, name)}
    profile["signer"] = {name: _text(data, f"signer.{name}") for name in ("authority", "title", "name")}
    profile["english"] = {
        name: _text(data, f"english.{name}") for name in ENGLISH_NAMES if _text(data, f"english.{name}")
    }
    profile["hotlines"] = _rows(data, "hotlines", HOTLINE_FIELDS)
    profile["official_numbers"] = _rows(data, "official_numbers", ("number", "purpose"))
    profile["hashtags"] = [tag.strip().lstrip("#") for tag in _text(data, "hashtags").split(",") if tag.strip()]
    readings = [line.partition("=") for line in _text(data, "readings").splitlines() if line.strip()]
    profile["readings"] = {short.strip(): words.strip() for short, _, words in readings}
    return profile


def _field_of(where: str) -> str:
    """`hotlines[0].number` stays; `signer` alone and `readings.UBND` go to their fields."""
    if where.startswith("readings"):
        return "readings"
    if where == "english":
        return "english.unit"
    if where in ("hotlines", "official_numbers", "signer"):
        return "signer.title" if where == "signer" else where
    return where


@router.get("/directory/issuers/{slug}", response_class=HTMLResponse)
def issuer_form(request: Request, session: DbSession, actor: Manager, slug: str) -> Response:
    words = words_of(request)
    if slug == "new":
        values = _profile_values({"region": "south", "locale": "vi", "symbol_reading": "brief"})
    else:
        values = _profile_values(directory_ops.issuer_profile(session, actor, slug))
    form = FormState(values=values)
    saved = words["profile_saved"] if "saved" in request.query_params else ""
    return render(request, "issuer_form.html", {"form": form, "slug": slug, "notice": saved})


@router.post("/directory/issuers/{slug}", response_class=HTMLResponse)
def save_issuer(request: Request, session: DbSession, actor: Manager, slug: str, data: Fields) -> Response:
    profile = _profile_of(data)
    if slug != "new":
        profile["issuer"] = slug  # a profile's name is its key: renaming would make another issuer
    try:
        with session.begin_nested():
            directory_ops.save_issuer_profile(session, actor, profile, settings_of(request))
    except UserError as exc:
        form = FormState(values=_profile_values(profile))
        for problem in exc.problems if isinstance(exc, InvalidInput) else []:
            form.fail(_field_of(problem.where), said(problem.message, language(request)))
        if not isinstance(exc, InvalidInput):
            form.fail_with(exc, language(request))
        return render(request, "issuer_form.html", {"form": form, "slug": slug, "notice": ""}, status_code=422)
    slug = profile["issuer"]
    if directory_ops.numbers_proposal(session, actor, slug) is not None:  # numbers changed: a second person decides
        return RedirectResponse(f"/directory/issuers/{slug}/numbers?done=waiting_notice", status_code=303)
    return RedirectResponse(f"/directory/issuers/{slug}?saved=1", status_code=303)
