"""Posts on the department's Facebook Page through the Graph API (DOMAIN §6).

POST /{page-id}/feed (or /photos with an image) with the page's token, which is read from the
environment variable the directory names for that page. Embedded default
(`BROADCASTER_FACEBOOK_MODE=file`): the request that would be sent is written to a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import requests
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from urllib3.exceptions import NewConnectionError

from broadcaster.clock import Clock
from broadcaster.masking import mask_secrets
from broadcaster.paths import inside
from broadcaster.settings import page_token_problem
from channels.base import (
    Bulletin,
    ChannelAdapter,
    Limits,
    Outcome,
    PermanentError,
    Recipient,
    RecipientKind,
    Result,
    TransientError,
)
from channels.files import safe_name, write_atomically

MAX_POST_LENGTH = 63_206
RATE_LIMITED = {4, 17, 32, 341, 613}
TRANSIENT = {1, 2}
MISSING_PERMISSION = {10, *range(200, 300)}
TOKEN_INVALID = 190
TEMPORARILY_BLOCKED = 368
DUPLICATE_POST = 506
INVALID_PARAMETER = 100
# Graph API: a post may be scheduled from 10 minutes to 30 days ahead (DOMAIN §6).
SCHEDULE_AT_LEAST = timedelta(minutes=10)
SCHEDULE_AT_MOST = timedelta(days=30)
# Graph API Page photos: JPEG, BMP, PNG, GIF or TIFF, of 4 MB at most (DOMAIN §6).
MAX_IMAGE_BYTES = 4 * 1024 * 1024
IMAGE_SIGNATURES = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}


def read_image(content_dir: Path, name: str) -> tuple[Path, bytes]:
    """The picture a campaign names, read whole; ValueError when Facebook must not get it.

    It must be a file inside the content folder, whose first bytes are those of a JPEG, PNG,
    GIF, BMP or TIFF picture (whatever its name says), of at most 4 MB. The bytes checked are
    the bytes uploaded.
    """
    path = inside(content_dir, name, what="image")
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as stream:
            data = stream.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"the image '{name}' cannot be read ({exc.strerror})") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"the image '{name}' is larger than 4 MB, the most Facebook takes for a photo")
    if not any(data.startswith(signature) for signature in IMAGE_SIGNATURES):
        raise ValueError(f"the image '{name}' is not a JPEG, PNG, GIF, BMP or TIFF picture")
    return path, data


class FacebookOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BROADCASTER_FACEBOOK_", extra="ignore")

    mode: Literal["file", "graph"] = "file"
    graph_url: str = "https://graph.facebook.com"
    api_version: str = "v21.0"
    timeout: float = 30.0


class FacebookCampaignOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    image: str | None = None  # a picture under the content folder, posted with the text
    scheduled: bool = False  # let Facebook publish at the fire time when posting 10 min to 30 days ahead

    @field_validator("image")
    @classmethod
    def _a_picture_in_the_content_folder(cls, image: str | None, info: ValidationInfo) -> str | None:
        # Checked where the content folder is known (validation passes it); again before each post.
        content_dir = (info.context or {}).get("content_dir")
        if image is not None and content_dir is not None:
            read_image(Path(content_dir), image)
        return image


class FacebookChannel(ChannelAdapter):
    """Posts to pages. Besides: confirms scheduled posts after their time (`ConfirmsPosts`), hands a scheduled
    campaign's posts over ahead (`SchedulesAhead`) and checks each page's token variable (`ChecksRecipients`)."""

    name = "facebook"
    recipient_kind = RecipientKind.PAGE
    default_limits = Limits(max_batch=1, max_length=MAX_POST_LENGTH, rate_per_second=0.5, links_allowed=True)
    refuses_repeats = True
    Options = FacebookOptions
    CampaignOptions = FacebookCampaignOptions

    options: FacebookOptions

    def __init__(self, options: FacebookOptions, *, output_dir: Path, clock: Clock | None = None) -> None:
        super().__init__(options, output_dir=output_dir, clock=clock)
        self.http = requests.Session()

    def check_recipient(self, recipient: Recipient) -> str | None:
        secret = recipient.page.token_secret
        if problem := page_token_problem(secret):
            return f"page '{recipient.name}': {problem}"
        if self.options.mode == "graph" and not os.environ.get(secret):
            return f"the page token for '{recipient.name}' is not set: set the environment variable {secret}"
        return None

    def _token(self, recipient: Recipient) -> str:
        """The page's token, from a variable with the page-token prefix only (checked again here: the
        directory may predate the rule)."""
        if problem := self.check_recipient(recipient):
            raise PermanentError(problem)
        return os.environ.get(recipient.page.token_secret, "")

    def request_for(self, bulletin: Bulletin) -> tuple[str, dict[str, Any], tuple[Path, bytes] | None]:
        """(endpoint, form fields without the token, image to upload: its path and bytes)."""
        options = bulletin.options
        if not isinstance(options, FacebookCampaignOptions):
            raise TypeError(f"a Facebook post needs FacebookCampaignOptions, not {type(options).__name__}")
        fields: dict[str, Any] = {"message": bulletin.parts.get("txt", "").strip()}
        publish_at = bulletin.fire_at
        if options.scheduled:
            # Handed over ahead of its time (the timetable does that for a scheduled campaign): Facebook
            # publishes it then. Too close to its time (a late run), it is published at once.
            ahead = publish_at - self.clock.now()
            if SCHEDULE_AT_LEAST <= ahead <= SCHEDULE_AT_MOST:
                fields["published"] = "false"
                fields["scheduled_publish_time"] = str(int(publish_at.timestamp()))
        page = bulletin.recipient.address
        if options.image:
            try:
                image = read_image(bulletin.content_dir, options.image)
            except ValueError as exc:
                # The file changed since validation: no post goes out without its picture, or with another.
                raise PermanentError(str(exc)) from None
            return f"/{page}/photos", fields, image
        return f"/{page}/feed", fields, None

    @classmethod
    def schedules_ahead(cls, campaign_options: Mapping[str, Any]) -> bool:
        return bool(campaign_options.get("scheduled"))

    def send(self, batch: Sequence[Bulletin]) -> list[Result]:
        return [self._post(bulletin) for bulletin in batch]

    def _url(self, path: str) -> str:
        return f"{self.options.graph_url.rstrip('/')}/{self.options.api_version}{path}"

    @staticmethod
    def _bearer(token: str) -> dict[str, str]:
        """Look-ups carry the token in a header: a URL ends up in proxies' and servers' logs."""
        return {"Authorization": f"Bearer {token}"}

    def _post(self, bulletin: Bulletin) -> Result:
        endpoint, fields, image = self.request_for(bulletin)
        if problem := page_token_problem(bulletin.recipient.page.token_secret):
            raise PermanentError(f"page '{bulletin.recipient.name}': {problem}")
        if self.options.mode == "file":
            return self._write(bulletin, endpoint, fields, image)
        token = self._token(bulletin.recipient)
        scheduled = "scheduled_publish_time" in fields
        if _unanswered_before(bulletin) and (existing := self._already_posted(bulletin, token, scheduled)):
            return Result(bulletin.key, Outcome.SENT, provider_id=existing, reason="found on the page already")
        url = self._url(endpoint)
        try:
            if image is not None:
                path, picture = image
                response = self.http.post(
                    url,
                    data={**fields, "access_token": token},
                    files={"source": (path.name, picture)},
                    timeout=self.options.timeout,
                )
            else:
                response = self.http.post(url, data={**fields, "access_token": token}, timeout=self.options.timeout)
        except requests.ConnectTimeout:
            raise TransientError("cannot reach the Graph API: no connection in time") from None
        except requests.Timeout:
            raise TransientError(
                "the Graph API did not answer in time; the post may or may not exist", ambiguous=True
            ) from None
        except requests.ConnectionError as exc:
            # Refused or unresolved: the post never left. Reset or cut off after sending: it may exist.
            never_left = _caused_by(exc, NewConnectionError)
            raise TransientError(
                f"cannot reach the Graph API: {type(exc).__name__}", ambiguous=not never_left
            ) from None
        return self._parse(bulletin, response, token, scheduled)

    def _parse(self, bulletin: Bulletin, response: requests.Response, token: str, scheduled: bool) -> Result:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.ok and isinstance(answer, dict) and answer.get("id"):
            post = str(answer.get("post_id") or answer["id"])
            if scheduled:
                return Result(bulletin.key, Outcome.SCHEDULED, provider_id=post, reason="scheduled on the page")
            return Result(bulletin.key, Outcome.SENT, provider_id=post)
        error = answer.get("error", {}) if isinstance(answer, dict) else {}
        if not error:
            # A 5xx without a Graph error may have posted all the same (DOMAIN §6): look before the retry.
            raise TransientError(
                f"the Graph API answered HTTP {response.status_code}",
                response=response.text[:300],
                ambiguous=response.status_code >= 500,
            )
        if int(error.get("code", 0)) == DUPLICATE_POST:
            return self._duplicate(bulletin, token, scheduled)
        return self._error(bulletin, error)

    def _duplicate(self, bulletin: Bulletin, token: str, scheduled: bool) -> Result:
        """Error 506: the page already has this very text (DOMAIN §12). On a first attempt that is a
        refusal: an earlier post, not ours, says the same. Only after an attempt of this delivery went
        unanswered may it be our own post, and then the page decides."""
        if _unanswered_before(bulletin) and (existing := self._already_posted(bulletin, token, scheduled)):
            return Result(bulletin.key, Outcome.SENT, provider_id=existing, reason="found on the page already")
        return Result(
            bulletin.key,
            Outcome.REJECTED,
            reason="Facebook refused the post as a repeat of one already on the page (error 506): "
            "repeated posts must differ, for example by the date",
        )

    def _error(self, bulletin: Bulletin, error: dict[str, Any]) -> Result:
        code, message = int(error.get("code", 0)), str(error.get("message", ""))
        page = bulletin.recipient.name or bulletin.recipient.address
        if code == TOKEN_INVALID:
            secret = bulletin.recipient.page.token_secret
            raise PermanentError(
                f"the page token for '{page}' has expired or been revoked; renew it ({secret})", response=message
            )
        if code in MISSING_PERMISSION:
            raise PermanentError(f"the page token for '{page}' lacks a permission (pages_manage_posts): {message}")
        if code in RATE_LIMITED:
            raise TransientError(f"Facebook rate limit reached (code {code})", response=message, retry_after=300)
        if code == TEMPORARILY_BLOCKED:
            raise TransientError(
                "Facebook has temporarily blocked posting (code 368)", response=message, retry_after=3600
            )
        if code in TRANSIENT:
            raise TransientError(f"the Graph API had a temporary error (code {code})", response=message)
        return Result(bulletin.key, Outcome.REJECTED, reason=f"Graph API error {code}: {message}")

    def _already_posted(self, bulletin: Bulletin, token: str, scheduled: bool) -> str | None:
        """After an unanswered attempt the post may exist: look for our text on the page (or among its
        scheduled posts) before posting again. Needs pages_read_engagement besides pages_manage_posts."""
        params: dict[str, Any] = {"fields": "id,message", "limit": 25}
        if not scheduled:
            params["since"] = int(bulletin.fire_at.timestamp()) - 300
        edge = "scheduled_posts" if scheduled else "feed"
        try:
            response = self.http.get(
                self._url(f"/{bulletin.recipient.address}/{edge}"),
                params=params,
                headers=self._bearer(token),
                timeout=self.options.timeout,
            )
        except requests.RequestException as exc:
            raise TransientError(
                f"cannot check the page for an earlier post before posting again: {type(exc).__name__}"
            ) from None
        try:
            posts = response.json().get("data", []) if response.ok else None
        except (ValueError, AttributeError):
            posts = None
        if posts is None:
            # Kept with the attempt: the Graph API's own answer says why (a permission, an outage).
            raise TransientError(
                f"cannot check the page for an earlier post before posting again (HTTP {response.status_code})",
                response=mask_secrets(response.text[:500]),
            )
        ours = bulletin.parts.get("txt", "").strip()
        return next((str(post["id"]) for post in posts if str(post.get("message", "")).strip() == ours), None)

    def confirm(self, provider_id: str, recipient: Recipient) -> Result | None:
        """A scheduled post after its time: published (sent), still waiting (None), or gone from the page."""
        token = self._token(recipient)
        try:
            response = self.http.get(
                self._url(f"/{provider_id}"),
                params={"fields": "id,is_published"},
                headers=self._bearer(token),
                timeout=self.options.timeout,
            )
        except requests.RequestException:
            raise TransientError("cannot ask the Graph API whether the scheduled post was published") from None
        said = mask_secrets(response.text[:500])  # kept with the delivery if the post is never confirmed
        try:
            answer = response.json()
        except ValueError:
            raise TransientError(
                f"the Graph API answered HTTP {response.status_code} about a scheduled post, without JSON",
                response=said,
            ) from None
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict) and int(error.get("code", 0)) == INVALID_PARAMETER:
            reason = "the scheduled post is no longer on the page (deleted before its time?)"
            return Result(provider_id, Outcome.REJECTED, provider_id=provider_id, reason=reason)
        if not response.ok or not isinstance(answer, dict):
            # 400 #803 ("some of the aliases you requested do not exist") and the like: the post cannot be
            # read. The core asks again, backing off, and ends it `unknown` with this answer.
            code = f" (error {error.get('code')}: {error.get('message', '')})" if isinstance(error, dict) else ""
            raise TransientError(
                f"the Graph API answered HTTP {response.status_code} about a scheduled post{code}", response=said
            )
        if answer.get("is_published"):
            return Result(provider_id, Outcome.SENT, provider_id=provider_id, reason="published at its time")
        return None

    def reach(self, post_id: str, recipient: Recipient) -> PostReach:
        """What the post reached (`post_reach`), for the results of a campaign."""
        return post_reach(self, post_id, recipient)

    def _write(
        self, bulletin: Bulletin, endpoint: str, fields: dict[str, Any], image: tuple[Path, bytes] | None
    ) -> Result:
        request = {
            "method": "POST",
            "endpoint": endpoint,
            "fields": fields,
            "image": str(image[0]) if image else None,
            "page": bulletin.recipient.name,
            "token_from": bulletin.recipient.page.token_secret,
        }
        path = self.output_dir / "facebook" / safe_name(bulletin.campaign) / f"{safe_name(bulletin.key)}.json"
        write_atomically(path, json.dumps(request, ensure_ascii=False, indent=2).encode("utf-8"))
        return Result(bulletin.key, Outcome.SENT, provider_id=str(path.relative_to(self.output_dir)))

    def close(self) -> None:
        self.http.close()


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind) or any(isinstance(arg, kind) for arg in seen.args):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _unanswered_before(bulletin: Bulletin) -> bool:
    """Whether an earlier attempt of this delivery may have reached Facebook unanswered (a timeout, a
    reset). Where the core does not say, any earlier attempt might have."""
    if bulletin.unanswered_before is not None:
        return bulletin.unanswered_before
    return bulletin.attempt > 1


# ---- what a post reached (post insights) ---------------------------------------------------------------

# Views (times the post was on screen) and reach (people who saw it). Meta retired post_impressions and
# post_impressions_unique for every API version in 2026; these are the metrics it names in their place.
VIEWS, REACH = "post_media_view", "post_total_media_view_unique"
REACH_METRICS = (VIEWS, REACH)
REACTIONS_AND_SHARES = "shares,reactions.summary(total_count).limit(0)"


@dataclass(frozen=True)
class PostReach:
    """What one post reached, as the Graph API tells it; `unavailable` says why it does not."""

    post_id: str
    impressions: int | None = None
    reach: int | None = None
    reactions: int | None = None
    shares: int | None = None
    unavailable: str | None = None


def post_reach(adapter: FacebookChannel, post_id: str, recipient: Recipient) -> PostReach:
    """The post's impressions and reach (`/{post}/insights`, which needs `read_insights` or
    `pages_read_engagement` on the page token) and its reactions and shares (`/{post}?fields=…`), the token
    in a header. Without the permission, or without an answer, the reason instead of numbers."""
    if adapter.options.mode != "graph":
        return PostReach(post_id, unavailable="posts are written to files here, not sent to Facebook")
    token = adapter._token(recipient)
    try:
        insights = adapter.http.get(
            adapter._url(f"/{post_id}/insights"),
            params={"metric": ",".join(REACH_METRICS)},
            headers=adapter._bearer(token),
            timeout=adapter.options.timeout,
        ).json()
        fields = adapter.http.get(
            adapter._url(f"/{post_id}"),
            params={"fields": REACTIONS_AND_SHARES},
            headers=adapter._bearer(token),
            timeout=adapter.options.timeout,
        ).json()
    except (requests.RequestException, ValueError):
        return PostReach(post_id, unavailable="the Graph API did not answer")
    for answer in (insights, fields):
        if problem := _reach_refused(answer, recipient):
            return PostReach(post_id, unavailable=problem)
    values = {
        str(item.get("name")): item.get("values", [{}])[-1].get("value")
        for item in insights.get("data", [])
        if isinstance(item, dict)
    }
    reactions = (fields.get("reactions") or {}).get("summary", {}).get("total_count")
    return PostReach(
        post_id,
        impressions=_count(values.get(VIEWS)),
        reach=_count(values.get(REACH)),
        reactions=_count(reactions),
        shares=_count((fields.get("shares") or {}).get("count", 0)),  # no "shares" field: nobody shared it
    )


def _reach_refused(answer: Any, recipient: Recipient) -> str | None:
    if not isinstance(answer, dict):
        return "the Graph API's answer could not be read"
    error = answer.get("error")
    if not isinstance(error, dict):
        return None
    code, message = int(error.get("code", 0)), mask_secrets(str(error.get("message", "")))
    if code in MISSING_PERMISSION:
        return (
            f"the page token for '{recipient.name}' does not allow reading insights "
            f"(read_insights or pages_read_engagement): {message}"
        )
    if code == TOKEN_INVALID:
        return f"the page token for '{recipient.name}' has expired or been revoked"
    return f"the Graph API refused: {message}"


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None
