"""Types shared by the API schemas of every app (no domain here)."""

from __future__ import annotations

from typing import Annotated

from ninja import Field

# A database id: positive and within a 64-bit integer, so an absurd number (a filter such as
# ?unit=18446744073709551616) is a 422 naming the field instead of an OverflowError deep in the
# database driver (issue 16 item 12).
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
