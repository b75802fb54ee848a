"""Input limits in one place (issue 13 item 4): how long a free text may be, per kind of text,
and the net behind every form and the API.

Forms and API schemas name one of these for each field, so the same kind of text has the same
limit everywhere; the browser shows it (``maxlength``, and the hint beside the field) and the
server refuses more with the field's own Chinese message. ``MAX_FIELD_CHARS`` is the net for
anything a form or schema does not bound: a page answers 400 with the error card, the API
422 with code ``too_long`` (``core.middleware.InputLimitMiddleware``, ``web.api``).
"""

from __future__ import annotations

from liuhen.core.errors import InvalidInput

NAME = 200  # a name, a title, a number, a place
REASON = 2000  # a reason, an opinion, a note on a step or a decision
SUMMARY = 5000  # a case summary, a patrol's findings, a discussion's conclusion
MAX_FIELD_CHARS = 10000  # the net: no single text field of a page or the API is longer
SEARCH = 100  # a search box (a GET stays far below the web server's URL limit)

# Texts that fill a narrower column: the column's width, named once here.
CODE = 64  # a choice's code or an identifier (kind, stage, status, an audit action, an id)
PERSON = 50  # a person's name (法定代表人)
SHORT = 100  # a short name: a person with their organisation (维修人员、申请人), a device model, a token's use
ID_NUMBER = 18  # 身份证号 / 统一社会信用代码 (both 18 characters)
MASKED_ID = 40  # a masked identity number (证件号码（脱敏）)
PHONE = 30
DOC_NUMBER = 80  # 文号
CAUSE = 300  # 案由; also the reason for 其他需要音像记录的情况 (第五条)
NOTE = 500  # a note on a recording: a mark's note, a reason for linking or unlinking a case
PLAN = 4000  # a redaction plan (JSON)

# A money amount in yuan (第九条 fee receipts) and a media offset in seconds (24 h).
MAX_AMOUNT = 10**11
MAX_OFFSET_SECONDS = 24 * 3600

LENGTH_MESSAGE = "最多 %(limit_value)d 个字（现有 %(show_value)d 个字）"
MIN_LENGTH_MESSAGE = "至少 %(limit_value)d 个字（现有 %(show_value)d 个字）"
TOO_LONG_MESSAGE = "「{field}」内容过长：最多 {limit} 个字（现有 {length} 个字），请精简后重新提交"


def check_length(text: str | None, *, limit: int, field: str) -> None:
    """Refuse ``text`` over ``limit`` characters with the field's own message (for the inputs
    a view reads without a form)."""
    length = len(text or "")
    if length > limit:
        raise InvalidInput(TOO_LONG_MESSAGE.format(field=field, limit=limit, length=length),
                           code="too_long", detail={"limit": limit, "length": length})


def install_messages() -> None:
    """The length messages of Django's validators in plain words (“确保该变量包含不超过 300
    字符” read like a compiler's); called from ``CoreConfig.ready()``."""
    from django.core import validators

    validators.MaxLengthValidator.message = LENGTH_MESSAGE
    validators.MinLengthValidator.message = MIN_LENGTH_MESSAGE
