"""Ingest stage: find input files, decode them, and turn each into raw documents or rejects."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from charset_normalizer import from_bytes

from tasks.records import ContentType, RawDocument, Reject, short_hash

STAGE = "ingest"
HTML_SUFFIXES = (".html", ".htm")
TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl",)
SUPPORTED = HTML_SUFFIXES + TEXT_SUFFIXES + JSONL_SUFFIXES
GZIP_MAGIC = b"\x1f\x8b"
DAY_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}")
# 128 bits: an incremental run trusts an equal hash to mean an equal input.
SOURCE_HASH_CHARS = 32
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# C0 control characters but tab, newline, form feed and carriage return: binary, not text.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
CJK_ENCODINGS = frozenset(
    {
        "big5",
        "big5hkscs",
        "gb2312",
        "gb18030",
        "gbk",
        "shift_jis",
        "shift_jis_2004",
        "shift_jisx0213",
        "cp932",
        "cp949",
        "euc_jp",
        "euc_kr",
        "euc_jis_2004",
        "johab",
        "hz",
    }
)
# Only the document start is sniffed: a text file that is really a saved page starts with a tag.
HTML_SNIFF = ("<!doctype html", "<html", "<?xml", "<head", "<body")


@dataclass(frozen=True)
class IngestSettings:
    """Limits that keep one bad file from exhausting the run."""

    # The longest real news pages are a few MB of HTML; a bigger file is a dump or an attack,
    # and reading it whole would put the run's memory at risk.
    max_file_bytes: int = 20_000_000
    # Caps gunzip output (a gzip bomb expands ~1000x); same bound as the file size it stands for.
    max_decompressed_bytes: int = 20_000_000
    # Text has almost no C0 control characters besides tab/newline; binary data is full of them.
    max_control_ratio: float = 0.01


class InputError(Exception):
    """An input that cannot become a document; carries the reject reason."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def discover(input_dir: Path) -> list[Path]:
    """List input files under a folder, sorted, skipping hidden files and READMEs."""
    return sorted(
        p
        for p in input_dir.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(input_dir).parts)
        and not p.name.lower().startswith("readme")
    )


def day_folder(input_dir: Path, day: date) -> Path | None:
    """The folder of a logical day: `INPUT/YYYY-MM-DD/` in the dated layout, else the whole input.

    In the dated layout a day without a folder has no input (None), so a backfill never
    reads every day's files into one partition.
    """
    dated = [p for p in input_dir.iterdir() if p.is_dir() and DAY_FOLDER.fullmatch(p.name)]
    if not dated:
        return input_dir
    folder = input_dir / day.isoformat()
    return folder if folder.is_dir() else None


def read_inputs(
    paths: Sequence[Path], input_dir: Path, settings: IngestSettings, salt: str = ""
) -> tuple[list[RawDocument], list[Reject]]:
    """Read a batch of files into documents; every file yields documents or a reject.

    `salt` (the extraction settings' fingerprint) goes into each document's `source_hash`.
    """
    docs: list[RawDocument] = []
    rejects: list[Reject] = []
    for path in paths:
        uri = path.relative_to(input_dir).as_posix()
        try:
            for item in _read_file(path, uri, settings):
                if isinstance(item, RawDocument):
                    docs.append(replace(item, source_hash=source_hash(item, salt)))
                else:
                    rejects.append(item)
        except InputError as err:
            rejects.append(Reject(uri, err.reason, err.detail, STAGE))
        except OSError as err:
            rejects.append(Reject(uri, "unreadable_file", str(err), STAGE))
    return docs, rejects


def source_hash(doc: RawDocument, salt: str) -> str:
    """Hash of an input's content and given metadata under one set of extraction settings.

    Equal hashes mean the same article would come out again, so an incremental run reuses it.
    """
    parts = (salt, doc.source_uri, doc.content_type, doc.content, doc.url, doc.title,
             doc.published_at, doc.outlet)  # fmt: skip
    return short_hash("\x00".join(p or "" for p in parts), SOURCE_HASH_CHARS)


def _read_file(path: Path, uri: str, settings: IngestSettings) -> Iterator[RawDocument | Reject]:
    """Yield the documents (or per-line rejects) of one file."""
    name = path.name.lower()
    gzipped = name.endswith(".gz")
    base = name.removesuffix(".gz")
    suffix = Path(base).suffix
    if suffix not in SUPPORTED:
        raise InputError(
            "unsupported_format", f"suffix {suffix or '(none)'} is not one of {SUPPORTED}"
        )
    size = path.stat().st_size
    if size > settings.max_file_bytes:
        raise InputError("too_large", f"{size} bytes > max_file_bytes {settings.max_file_bytes}")
    data = path.read_bytes()
    if gzipped:
        data = _gunzip(data, settings.max_decompressed_bytes)
    if not data.strip():
        raise InputError("empty_input", f"{len(data)} bytes, no content")
    text, encoding = decode(data, settings.max_control_ratio)
    if suffix in JSONL_SUFFIXES:
        yield from _jsonl_documents(text, uri, encoding)
    else:
        kind: ContentType = "html" if suffix in HTML_SUFFIXES or looks_like_html(text) else "text"
        yield RawDocument(source_uri=uri, content=text, content_type=kind, encoding=encoding)


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress gzip data, refusing to expand past the limit."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as err:
        raise InputError("corrupt_gzip", str(err)) from err
    if len(out) > limit:
        raise InputError("decompressed_too_large", f"expands past max_decompressed_bytes {limit}")
    if not inflater.eof:
        raise InputError("corrupt_gzip", "truncated gzip stream")
    return out


def decode(data: bytes, max_control_ratio: float) -> tuple[str, str]:
    """Decode bytes as UTF-8 (or a BOM's encoding), else the best charset guess."""
    text, encoding = _decode_guess(data)
    if _control_ratio(text) > max_control_ratio:
        raise InputError("binary_content", "control characters exceed max_control_ratio")
    return text, encoding


def _decode_guess(data: bytes) -> tuple[str, str]:
    """Try the BOM, then BOM-less UTF-16, the declared charset, strict UTF-8, then a guess."""
    if data.startswith(GZIP_MAGIC):
        raise InputError("binary_content", "gzip data without a .gz suffix")
    for bom, enc in BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as err:
                raise InputError("undecodable", f"{enc} BOM but invalid data: {err}") from err
    head = data[:4096]
    if b"\x00" in head:
        if not _looks_utf16(data):
            raise InputError("binary_content", "NUL bytes in a file that is not UTF-16")
        # BOM-less UTF-16: the NULs are the high bytes of Latin letters, odd bytes in LE.
        enc = "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError as err:
            raise InputError("undecodable", f"looks like {enc} but: {err}") from err
    for candidate in (_declared_charset(data), "utf-8"):
        if candidate:
            try:
                return data.decode(candidate), candidate
            except (UnicodeDecodeError, LookupError):
                pass
    guess = _guess_charset(data)
    if guess is None:
        raise InputError("undecodable", "not UTF-8 and no charset guess fits")
    try:
        return data.decode(guess), guess
    except (UnicodeDecodeError, LookupError) as err:
        raise InputError("undecodable", f"guessed {guess} but: {err}") from err


def _declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in its first bytes, if any."""
    match = META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii").lower() if match else None


def _guess_charset(data: bytes) -> str | None:
    """Best charset guess, preferring windows-1252 as browsers do for unlabeled Western text."""
    sample = data[:200_000]
    matches = list(from_bytes(sample))
    fits_1252 = _decodes(sample, "cp1252")
    if not matches:
        return "cp1252" if fits_1252 else None
    best = matches[0]
    tied = {m.encoding for m in matches if m.chaos <= best.chaos}
    if "cp1252" in tied or (fits_1252 and _chaos(sample, "cp1252") <= best.chaos):
        return "cp1252"
    # A few high bytes in ASCII text are accented letters, not a CJK multibyte text.
    if fits_1252 and best.encoding in CJK_ENCODINGS and _ascii_share(sample) > 0.9:
        return "cp1252"
    return str(best.encoding)


def _chaos(data: bytes, encoding: str) -> float:
    """charset_normalizer's mess ratio of the data read in one encoding (1.0: too messy)."""
    # charset_normalizer 3.5 leaves cp1252 out of its candidates for German text that cp775
    # reads as cleanly ("Z³rich"), so the browsers' default is scored on its own.
    found = from_bytes(data, cp_isolation=[encoding]).best()
    return found.chaos if found is not None else 1.0


def _decodes(data: bytes, encoding: str) -> bool:
    """Tell whether bytes decode cleanly in an encoding."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _ascii_share(data: bytes) -> float:
    """Share of 7-bit bytes."""
    return sum(1 for b in data if b < 0x80) / max(len(data), 1)


def _looks_utf16(data: bytes) -> bool:
    """BOM-less UTF-16 of Latin text has NUL in every other byte."""
    head = data[:4096]
    return head[1::2].count(0) > len(head) // 4 or head[0::2].count(0) > len(head) // 4


def _control_ratio(text: str) -> float:
    """Share of C0 control characters other than tab, newline, carriage return, form feed."""
    sample = text[:100_000]
    if not sample:
        return 0.0
    return len(CONTROL_CHARS.findall(sample)) / len(sample)


def looks_like_html(text: str) -> bool:
    """Sniff whether a document is HTML from its first characters."""
    return text.lstrip()[:200].lower().startswith(HTML_SNIFF)


def _jsonl_documents(text: str, uri: str, encoding: str) -> Iterator[RawDocument | Reject]:
    """Yield one document per JSONL line; a broken line is a reject of its own."""
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        line_uri = f"{uri}#L{line_no}"
        try:
            yield _jsonl_document(line, line_uri, encoding)
        except InputError as err:
            yield Reject(line_uri, err.reason, err.detail, STAGE)


def _jsonl_document(line: str, uri: str, encoding: str) -> RawDocument:
    """Turn one JSONL object into a document."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise InputError("malformed_json_line", str(err)) from err
    if not isinstance(obj, dict):
        raise InputError("malformed_json_line", f"expected an object, got {type(obj).__name__}")
    html, text = obj.get("html"), obj.get("text")
    content = html if isinstance(html, str) and html.strip() else text
    if not isinstance(content, str) or not content.strip():
        raise InputError("missing_text", "no non-empty `text` or `html` field")
    kind: ContentType = "html" if content is html or looks_like_html(content) else "text"
    return RawDocument(
        source_uri=uri,
        content=content,
        content_type=kind,
        encoding=encoding,
        url=_opt_str(obj.get("url")),
        title=_opt_str(obj.get("title")),
        published_at=_opt_str(obj.get("published_at")),
        outlet=_opt_str(obj.get("source")),
    )


def _opt_str(value: object) -> str | None:
    """Keep a field only when it is a non-empty string."""
    return value.strip() if isinstance(value, str) and value.strip() else None
