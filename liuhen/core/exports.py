"""Cells of CSV (and any spreadsheet) exports made safe to open (issue 16 item 13).

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets skip before reading a formula) is run as a formula when the file is opened in
Excel, WPS or LibreOffice: ``=HYPERLINK(...)`` in an audit entry's reason or a recording's file
name would then run on the desk of whoever reads the export. OWASP's "CSV Injection" page
advises prefixing such cells with a single quote, which every spreadsheet shows as text and
hides; the value is otherwise kept exactly, so the export still says what the log says.
Numbers (int, float) are written as they are: a negative number is data, not a formula.
"""

from __future__ import annotations

from collections.abc import Iterable

# OWASP CSV Injection: =, +, -, @, tab (0x09), carriage return (0x0D); full-width forms are
# read as formulas by some spreadsheet software with Chinese input, so they count too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def safe_cell(value):
    """``value`` as a spreadsheet will read it as text, never as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable) -> list:
    """Every cell of a row through ``safe_cell``."""
    return [safe_cell(v) for v in values]
