"""Date parsing for date lines and metadata values, keeping the offset the source states."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Literal

from tasks.text.keys import shape_key

DateKind = Literal["published", "modified", "page"]

# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


def _month_table(*calendars: str) -> dict[str, int]:
    """Month name -> number, from space-separated lists of twelve names per language."""
    table: dict[str, int] = {}
    for names in calendars:
        table.update({name: i for i, name in enumerate(names.split(), start=1)})
    return table


MONTHS = {
    **_month_table(
        "january february march april may june july august september october november december",
        "jan feb mar apr may jun jul aug sep oct nov dec",
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
        "januar februar märz april mai juni juli august september oktober november dezember",
    ),
    "sept": 9,
    "setiembre": 9,
    "jänner": 1,
}
WEEKDAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs"
    "|fri|sat|sun|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles"
    "|miercoles|jueves|viernes|sábado|sabado|domingo|montag|dienstag|mittwoch|donnerstag"
    "|freitag|samstag|sonntag"
)
MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
MODIFIED_LABELS = (
    "updated",
    "last updated",
    "modified",
    "last modified",
    "mis à jour",
    "actualizado",
    "aktualisiert",
)
# US sites write "ET"/"PT" without saying daylight or standard: taken as standard time, an
# hour off in summer, which never moves a date line by more than that hour.
# fmt: off
TZ_OFFSETS = {
    "utc": 0, "gmt": 0, "z": 0, "est": -5, "edt": -4, "cst": -6, "cdt": -5, "mst": -7,
    "mdt": -6, "pst": -8, "pdt": -7, "cet": 1, "cest": 2, "bst": 1, "eet": 2, "eest": 3,
    "msk": 3, "et": -5, "ct": -6, "pt": -8,
}
# fmt: on
# Two-digit years ("28.09.19 12:44") below this are 20xx, from it 19xx: web news starts in the
# 1990s, and a fixed pivot keeps parsing independent of the day it runs.
TWO_DIGIT_YEAR_PIVOT = 70
ZONE_NAMES = "|".join(sorted(TZ_OFFSETS, key=len, reverse=True))
# The leading run of symbols is read once, from its first character (a date starts with a
# letter or digit, so the run never gives any back): a search would otherwise re-read a long
# run of symbols from each of its characters.
DATE_LINE = re.compile(
    rf"""(?!(?<=[\W_])[\W_])[\W_]*+
    (?:(?P<label>published|posted|updated|last\supdated|modified|last\smodified|date|dated
        |publié|mis\sà\sjour|publicado|actualizado|veröffentlicht|aktualisiert|on)
       \s?:?\s?(?:on\s|le\s|el\s|am\s)?)?
    (?:(?:{WEEKDAYS})\.?,?\s)?
    (?:(?P<mname1>{MONTH_NAMES})\.?\s(?P<day1>\d{{1,2}})(?:st|nd|rd|th)?,?\s(?P<year1>\d{{4}})
      |(?P<day2>\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s(?:de\s)?(?P<mname2>{MONTH_NAMES})\.?,?\s
        (?:de\s)?(?P<year2>\d{{4}})
      |(?P<year3>\d{{4}})-(?P<month3>\d{{1,2}})-(?P<day3>\d{{1,2}})
      |(?P<day4>\d{{1,2}})\.(?P<month4>\d{{1,2}})\.(?P<year4>\d{{4}})
      |(?P<day6>\d{{1,2}})\.(?P<month6>\d{{1,2}})\.(?P<year6>\d{{2}})
      |(?P<first5>\d{{1,2}})/(?P<second5>\d{{1,2}})/(?P<year5>\d{{4}}))
    (?:\s?(?:,|at|à|a\slas|um|-|\||/|t)?\s?(?P<hour>\d{{1,2}})[:h.](?P<minute>\d{{2}})
       (?::(?P<second>\d{{2}}))?\s?(?P<ampm>[ap]\.?m\.?)?)?
    (?:\s?\(?(?P<tz>{ZONE_NAMES})?
       (?P<offset>[+-]\d{{1,2}}(?::?\d{{2}})?)?\)?)?
    [\W_]*""",
    re.VERBOSE,
)


def parse_date_line(line: str, max_chars: int) -> tuple[datetime, DateKind] | None:
    """Parse a line that is only a date (with optional label, weekday, time and zone)."""
    return _dated(line, max_chars, whole=True)


def date_in_line(line: str, max_chars: int) -> tuple[datetime, DateKind] | None:
    """The date a short line holds among other words ("Tom Rogan · May 2, 2019 at 9:24")."""
    return _dated(line, max_chars, whole=False)


def _dated(line: str, max_chars: int, *, whole: bool) -> tuple[datetime, DateKind] | None:
    """The date of a short line (the whole line, or a part of it) and its kind."""
    if len(line) > max_chars or not any(c.isdigit() for c in line):
        return None
    shape = shape_key(line)
    match = DATE_LINE.fullmatch(shape) if whole else DATE_LINE.search(shape)
    value = None if match is None else _datetime_from_match(match)
    if match is None or value is None:
        return None
    kind: DateKind = "modified" if match["label"] in MODIFIED_LABELS else "published"
    return value, kind


def _datetime_from_match(match: re.Match[str]) -> datetime | None:
    """Build an aware datetime from the DATE_LINE groups, or None when the values are impossible."""
    ymd = _ymd(match)
    if ymd is None:
        return None
    hour, minute, second = _hms(match)
    try:
        naive = datetime(*ymd, hour, minute, second)
    except ValueError:
        return None
    return naive.replace(tzinfo=_zone(match["tz"], match["offset"]))


def _ymd(match: re.Match[str]) -> tuple[int, int, int] | None:
    """Year, month, day from whichever date alternative matched; None when ambiguous."""
    if match["year1"]:
        return int(match["year1"]), MONTHS[match["mname1"]], int(match["day1"])
    if match["year2"]:
        return int(match["year2"]), MONTHS[match["mname2"]], int(match["day2"])
    if match["year3"]:
        return int(match["year3"]), int(match["month3"]), int(match["day3"])
    if match["year4"]:
        return int(match["year4"]), int(match["month4"]), int(match["day4"])
    if match["year6"]:
        return _full_year(int(match["year6"])), int(match["month6"]), int(match["day6"])
    return _slashed(int(match["first5"]), int(match["second5"]), int(match["year5"]))


def _full_year(two_digits: int) -> int:
    """The century of a two-digit year ("28.09.19"): news pages date from after 1970."""
    return two_digits + (1900 if two_digits >= TWO_DIGIT_YEAR_PIVOT else 2000)


def _slashed(first: int, second: int, year: int) -> tuple[int, int, int] | None:
    """A n/n/yyyy date, only when one number cannot be a month (US and European orders clash)."""
    if first > 12 >= second:
        return year, second, first
    if second > 12 >= first:
        return year, first, second
    return None


def _hms(match: re.Match[str]) -> tuple[int, int, int]:
    """Hour, minute, second (midnight when no time is given), with am/pm applied."""
    if not match["hour"]:
        return 0, 0, 0
    hour = int(match["hour"]) % 24
    ampm = (match["ampm"] or "").replace(".", "")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    return hour, int(match["minute"]), int(match["second"] or 0)


def _zone(name: str | None, offset: str | None) -> timezone:
    """The zone of a named abbreviation plus an optional numeric offset; UTC when none is given."""
    minutes = TZ_OFFSETS.get(name or "", 0) * 60
    if offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, mins = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "0")
        minutes += sign * (int(hours) * 60 + int(mins))
    if not -18 * 60 < minutes < 18 * 60:
        minutes = 0  # an impossible offset is noise; the date itself is still usable
    return timezone(timedelta(minutes=minutes))


def parse_datetime(value: str, max_chars: int) -> datetime | None:
    """Parse a machine or human date string (ISO 8601, RFC 2822, "September 20, 2023").

    The result keeps the offset the source states (its calendar day is the outlet's day);
    a value without one is taken as UTC.
    """
    text = value.strip()
    if not text:
        return None
    parsed = _parse_iso(text) or _parse_rfc2822(text)
    if parsed is not None:
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    dated = parse_date_line(text, max_chars)
    return dated[0] if dated else None


def _parse_iso(text: str) -> datetime | None:
    """ISO 8601 as Python reads it, or None."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _parse_rfc2822(text: str) -> datetime | None:
    """RFC 2822 ("Tue, 19 Sep 2023 10:00:00 +0200"), as feeds write dates, or None."""
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):  # a 20-digit year overflows
        return None


def as_utc(value: datetime) -> datetime:
    """A datetime in UTC; a naive one is taken to be UTC already.

    Raises OverflowError for a time whose offset carries it past year 1 or 9999 in UTC
    ("0001-01-01T00:00:00+05:00"); `utc_or_none` tells instead.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_or_none(value: datetime) -> datetime | None:
    """A datetime in UTC, or None when it has no UTC equivalent (see as_utc)."""
    try:
        return as_utc(value)
    except OverflowError:
        return None
