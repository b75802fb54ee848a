"""Types shared by the API schemas of every app (no domain here)."""

from __future__ import annotations

from typing import Annotated

from ninja import Field

from liuhen.core import limits

# A database id: positive and within a 64-bit integer, so an absurd number (a filter such as
# ?unit=18446744073709551616) is a 422 naming the field instead of an OverflowError deep in the
# database driver (issue 16 item 12).
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]

# Free text of the API, bounded by the limits of ``core.limits`` (issue 13 item 4): the same kind
# of text has the same limit as on the forms; the OpenAPI document shows it (maxLength) and a
# longer value is a 422 naming the field (``web.api``).
Code = Annotated[str, Field(max_length=limits.CODE)]
Search = Annotated[str, Field(max_length=limits.SEARCH)]
Name = Annotated[str, Field(max_length=limits.NAME)]
Reason = Annotated[str, Field(max_length=limits.REASON)]
Summary = Annotated[str, Field(max_length=limits.SUMMARY)]
Note = Annotated[str, Field(max_length=limits.NOTE)]
Cause = Annotated[str, Field(max_length=limits.CAUSE)]
Person = Annotated[str, Field(max_length=limits.PERSON)]
Short = Annotated[str, Field(max_length=limits.SHORT)]
IdNumber = Annotated[str, Field(max_length=limits.ID_NUMBER)]
MaskedId = Annotated[str, Field(max_length=limits.MASKED_ID)]
Phone = Annotated[str, Field(max_length=limits.PHONE)]
Plan = Annotated[str, Field(max_length=limits.PLAN)]
