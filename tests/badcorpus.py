"""The bad-input corpus: every kind of hostile or broken input, written at test time.

Big and explosive files (50 MB of text, a gzip bomb, a line of a million characters) are
generated, never committed. Each entry maps an input's `source_uri` (its path relative to the
folder; a JSONL line is `file.jsonl#L<n>`) to the outcome it must have: "article", or the
reject reason. `write_corpus` writes the original small corpus (what the flow test runs);
`write_hostile` writes it with over a hundred more kinds, special files included.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import os
import random
import socket
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

GOOD = (
    "Ministers agree new flood defence plan\n\n"
    "The government agreed on Tuesday to spend more on flood defences along the river, after "
    "a winter in which hundreds of homes were flooded in the north of the country.\n\n"
    '"We will not leave these towns to face another winter alone," the environment minister '
    "Jane Porter told reporters in London.\n\n"
    "The plan, which still needs a vote in parliament, would fund new walls and pumps in "
    "twelve towns over the next five years, officials said.\n"
)
# A paragraph no other input has: found in an article, it shows where the text came from.
SECOND = (
    "Engineers in the second town said the work on the embankment would start in the spring, "
    "before the rains return to the valley, and would take at least two years to finish."
)
ENTITY_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n<html><body><p>&lol9;</p></body></html>\n"
)
# The regular expressions that backtrack for ever on a crafted line (the three).
REGEX_CAPS = "A" * 60 + "H!"
REGEX_BYLINE = "By " + "Amy " * 40 + "!"
REGEX_SPACES = " " * 200_000
# Over a million characters of prose on one line: the entities and quotes of its first part.
LONG_LINE_CHARS = 1_050_000
UNICODE_SPACES = "\u00a0\u1680\u2000\u2003\u2009\u200a\u2028\u2029\u202f\u205f\u3000\u0085"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00"
# A name that is not UTF-8: Linux allows any bytes, Python hands them over surrogate-escaped.
NOT_UTF8_NAME = os.fsdecode(b"caf\xe9.txt")


@dataclass(frozen=True)
class ArticleCheck:
    """What an article of the corpus must show besides being an article."""

    warning: str | None = None  # one of its warnings starts with this reason
    encoding: str | None = None  # the encoding ingest read it in
    contains: tuple[str, ...] = ()  # text its body holds
    absent: tuple[str, ...] = ()  # text its body must not hold
    undated: bool = False  # no publication date
    author: str | None = None  # the author the input gave
    input_id: str | None = None  # the id the input gave


# Checks beyond "article" for some inputs of the hostile corpus, by source_uri, as the
# normalize stage's articles show them.
ARTICLE_CHECKS: dict[str, ArticleCheck] = {
    "latin-1.txt": ArticleCheck(contains=("Parlement européen",)),
    "cp1252.txt": ArticleCheck(contains=("“a start”",)),
    "utf-16.txt": ArticleCheck(encoding="utf-16"),
    "utf-16-no-bom.txt": ArticleCheck(encoding="utf-16-le"),
    "utf-16-be-bom.txt": ArticleCheck(contains=("flood defences",)),
    "utf-16-be-no-bom.txt": ArticleCheck(contains=("flood defences",)),
    "utf-32-le-bom.txt": ArticleCheck(contains=("flood defences",)),
    "utf-32-be-bom.txt": ArticleCheck(contains=("flood defences",)),
    "invalid-utf8.txt": ArticleCheck(
        warning="invalid_utf8", encoding="utf-8", contains=("Parlement européen",)
    ),
    "multi-member.txt.gz": ArticleCheck(contains=("flood defences", "embankment")),
    "spaces-then-good.txt": ArticleCheck(contains=("flood defences",)),
    "xxe.html": ArticleCheck(absent=("root:",)),
    "lines.jsonl#L1": ArticleCheck(contains=("flood defences",)),
    "surrogate.jsonl#L1": ArticleCheck(warning="invalid_unicode"),
    "u2028.jsonl#L1": ArticleCheck(contains=("embankment",)),
    "dates.jsonl#L1": ArticleCheck(warning="bad_date_field", undated=True),
    "dates.jsonl#L2": ArticleCheck(warning="bad_date_field", undated=True),
    "dates.jsonl#L3": ArticleCheck(undated=True),
    "news-please.json": ArticleCheck(author="Ann Lee, Bo Cruz", contains=("flood defence",)),
    "table.csv#R1": ArticleCheck(author="Di Eze", input_id="4711", contains=("flood defence",)),
}

# Warnings the later stages add (the entities stage), as the flow's articles show them.
FLOW_WARNINGS: dict[str, str] = {"long-line.txt": "text_too_long"}


class Corpus:
    """A folder being filled with inputs, and the outcome each must have."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.expected: dict[str, str] = {}
        self.copies = 0

    def put(self, name: str, data: bytes, outcome: str) -> None:
        """Write one input file (its folders made as needed) that has one outcome."""
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.expected[source_uri(name)] = outcome

    def lines(
        self,
        name: str,
        lines: Iterable[tuple[bytes, str]],
        sep: bytes = b"\n",
        pack: Callable[[bytes], bytes] | None = None,
    ) -> None:
        """Write a JSONL file (compressed by `pack`), one outcome per line (a blank line has
        none)."""
        pairs = list(lines)
        data = sep.join(line for line, _ in pairs)
        (self.folder / name).write_bytes(pack(data) if pack else data)
        for n, (line, outcome) in enumerate(pairs, start=1):
            if line.strip():
                self.expected[f"{source_uri(name)}#L{n}"] = outcome

    def records(self, name: str, data: bytes, outcomes: Sequence[str]) -> None:
        """Write a file of records (a table, a JSON array): one outcome per record, `#R<n>`."""
        (self.folder / name).write_bytes(data)
        for n, outcome in enumerate(outcomes, start=1):
            self.expected[f"{source_uri(name)}#R{n}"] = outcome

    def good(self) -> str:
        """GOOD with numbers of its own in each paragraph.

        Copies of one text in a folder are that folder's outlet template to the clean stage,
        which removes their shared first and last paragraphs; numbers make each copy unique.
        """
        self.copies += 1
        n = self.copies
        return (
            GOOD.replace("hundreds of homes", f"{100 + n} homes")
            .replace("told reporters", f"told {10 + n} reporters")
            .replace("twelve towns", f"{12 + n} towns")
        )

    def ignored(self, name: str, data: bytes) -> None:
        """Write a file that is not an input (hidden, a README): it has no outcome at all."""
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_corpus(folder: Path) -> dict[str, str]:
    """Write the corpus into a folder; return each input's expected outcome."""
    corpus = Corpus(folder)
    _original(corpus)
    return corpus.expected


def write_hostile(folder: Path, special: bool = True) -> dict[str, str]:
    """Write the hostile corpus (the original one and a hundred more kinds); return outcomes.

    `special` adds what only a file system has (a FIFO, a socket, symbolic links, one of them
    to a file written beside the folder, `<folder>.outside.txt`).
    """
    corpus = Corpus(folder)
    parts = (_original, _empty, _binary, _encodings, _gzip, _html, _text, _jsonl, _records, _warc,
             _names)  # fmt: skip
    for part in parts:
        part(corpus)
    if special:
        _special(corpus)
    return corpus.expected


def html_page(text: str, head: str = "", attrs: str = "") -> str:
    """A simple page of a text's paragraphs (the first one as its headline)."""
    first, *rest = text.strip().split("\n\n")
    paragraphs = "".join(f"<p{attrs}>{p}</p>\n" for p in rest)
    return (
        f"<!DOCTYPE html>\n<html><head>{head}<title>{first}</title></head>\n"
        f"<body><article><h1>{first}</h1>\n{paragraphs}</article></body></html>\n"
    )


def _original(c: Corpus) -> None:
    """The first corpus: one input of each failure the ingest stage knew."""
    c.put("good.txt", c.good().encode("utf-8"), "article")
    c.put("empty.txt", b"", "empty_input")
    c.put("blank.txt", b" \n\t\n", "empty_input")
    c.put("binary.txt", bytes(range(256)) * 64, "binary_content")
    # A known binary format is named by its magic bytes, whatever the suffix says.
    c.put("png-as-text.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 32, "unsupported_format")
    c.put("nul-bytes.txt", c.good().encode("utf-8").replace(b" ", b"\x00"), "binary_content")
    latin = c.good().replace("parliament", "Parlement européen")
    c.put("latin-1.txt", latin.encode("latin-1"), "article")
    curly = c.good().replace('"', "\u201c", 1).replace('"', "\u201d", 1)
    # Curly quotes in the last paragraph too, which no other input shares.
    curly = curly.replace("officials said.", "officials said, calling it \u201ca start\u201d.")
    c.put("cp1252.txt", curly.encode("cp1252"), "article")
    c.put("utf-16.txt", c.good().encode("utf-16"), "article")
    c.put("utf-16-no-bom.txt", c.good().encode("utf-16-le"), "article")
    c.put("huge.txt", (c.good() * 180_000).encode("utf-8")[:50_000_000], "too_large")
    nested = "<div>" * 5000 + f"<p>{c.good()}</p>" + "</div>" * 5000
    c.put("deeply-nested.html", f"<html><body>{nested}</body></html>".encode(), "html_too_deep")
    paragraphs = "".join(f"<p>{p}" for p in c.good().split("\n\n"))
    c.put(
        "malformed.html", f"<html><body><div><b>{paragraphs}</i></table><p <<>>".encode(), "article"
    )
    c.put("entity-bomb.html", ENTITY_BOMB.encode(), "too_short")
    c.put("gzip-bomb.txt.gz", gzip.compress(b"\0" * 60_000_000, 9), "decompressed_too_large")
    c.put("corrupt.txt.gz", gzip.compress(c.good().encode())[:40], "corrupt_gzip")
    c.put("unsupported.pdf", b"%PDF-1.4 not an article", "unsupported_format")
    c.lines(
        "feed.jsonl",
        [
            (json.dumps({"text": c.good(), "title": "Flood plan"}).encode(), "article"),
            (b"{broken", "malformed_json_line"),
            (b"[1, 2]", "malformed_json_line"),
            (json.dumps({"text": ""}).encode(), "missing_text"),
        ],
    )
    for odd in ("spaces and ümlauts é.txt", "quote'\"and#hash?.txt", "new\nline.txt", "📰 emoji.txt",
                "-starts-with-dash.txt", "semi;colon&amp.txt"):  # fmt: skip
        c.put(odd, c.good().replace("Tuesday", f"Tuesday ({len(odd)})").encode(), "article")


def _empty(c: Corpus) -> None:
    """Nothing to read: whitespace of every kind, a lone byte-order mark."""
    c.put("whitespace-ascii.txt", b" \t\r\n\f\v" * 200, "empty_input")
    c.put("whitespace-unicode.txt", (UNICODE_SPACES + "\n").encode() * 100, "empty_input")
    c.put("whitespace-utf16.txt", (UNICODE_SPACES + " \n").encode("utf-16"), "empty_input")
    c.put("bom-only.txt", b"\xef\xbb\xbf", "empty_input")
    c.put("blank.html", b"\n\n   \n", "empty_input")
    c.put("empty.txt.gz", gzip.compress(b""), "empty_input")


def _binary(c: Corpus) -> None:
    """Binary data: known formats by their magic bytes, random bytes and control characters."""
    rng = random.Random(18)
    c.put("random.txt", rng.randbytes(65_536), "binary_content")
    c.put("random.html", rng.randbytes(4096), "binary_content")
    c.put("image.png", PNG + rng.randbytes(2048), "unsupported_format")
    c.put("png-as-page.html", PNG + rng.randbytes(2048), "unsupported_format")
    c.put("jpeg-as-text.txt", JPEG + rng.randbytes(4096), "unsupported_format")
    c.put("zip-as-text.txt", _zip({"article.txt": c.good()}), "unsupported_format")
    c.put("elf-as-text.txt", ELF + rng.randbytes(4096), "unsupported_format")
    stream = b"stream\n" + zlib.compress(c.good().encode()) + b"\nendstream\n"
    c.put(
        "pdf-binary.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + stream, "unsupported_format"
    )
    ascii_pdf = f"%PDF-1.4\n1 0 obj\n<< /Length 200 >>\nstream\nBT ({c.good()}) Tj ET\nendstream\n"
    c.put("pdf-text-only.txt", ascii_pdf.encode(), "unsupported_format")
    c.put("png-in-gzip.txt.gz", gzip.compress(PNG + rng.randbytes(2048)), "unsupported_format")
    c.put("nul-bytes.html", html_page(c.good()).encode().replace(b" ", b"\x00"), "binary_content")
    escapes = "".join(f"\x1b[{i % 8}m{w}" for i, w in enumerate(c.good().split(" ")))
    c.put("control-chars.txt", escapes.encode(), "binary_content")
    c.put("few-controls.txt", c.good().replace("London", "London\x1b").encode(), "article")


def _encodings(c: Corpus) -> None:
    """Every encoding an article comes in, and UTF-8 with a few broken bytes."""
    c.put("utf-8-bom.txt", b"\xef\xbb\xbf" + c.good().encode(), "article")
    c.put("utf-16-be-bom.txt", b"\xfe\xff" + c.good().encode("utf-16-be"), "article")
    c.put("utf-16-be-no-bom.txt", c.good().encode("utf-16-be"), "article")
    c.put("utf-32-le-bom.txt", b"\xff\xfe\x00\x00" + c.good().encode("utf-32-le"), "article")
    c.put("utf-32-be-bom.txt", b"\x00\x00\xfe\xff" + c.good().encode("utf-32-be"), "article")
    # Mostly UTF-8 (accented letters and all) with four stray bytes: still UTF-8, not cp1252.
    text = c.good().replace("parliament", "Parlement européen").encode()
    for stray in (b"river", b"London", b"towns", b"years"):
        text = text.replace(stray, stray + b"\xff", 1)
    c.put("invalid-utf8.txt", text, "article")
    declared = html_page(c.good(), head='<meta charset="shift_jis">')
    c.put("wrong-charset.html", declared.encode(), "article")
    unknown = html_page(c.good(), head='<meta charset="x-no-such-charset">')
    c.put("unknown-charset.html", unknown.encode(), "article")
    # A charset declaration is a page's: in a text or a JSONL feed it is just text.
    ebcdic = "<meta charset='cp037'>"
    c.put(
        "charset-in-text.txt",
        f"{c.good()}\nThe page said {ebcdic} in its head.\n".encode(),
        "article",
    )
    page = json.dumps({"html": html_page(c.good(), head=ebcdic)}).encode()
    c.lines(
        "charset-in.jsonl",
        [(page, "article"), (json.dumps({"text": c.good()}).encode(), "article")],
    )


def _gzip(c: Corpus) -> None:
    """Compressed inputs: bombs, broken streams and streams of several members."""
    c.put("truncated.txt.gz", gzip.compress((c.good() * 20).encode())[:300], "corrupt_gzip")
    packed = bytearray(gzip.compress(c.good().encode()))
    packed[-8:-4] = struct.pack("<I", zlib.crc32(b"wrong"))
    c.put("bad-crc.txt.gz", bytes(packed), "corrupt_gzip")
    c.put("not-gzip.txt.gz", c.good().encode(), "corrupt_gzip")
    c.put(
        "big-text.txt.gz", gzip.compress((c.good() * 60_000).encode(), 6), "decompressed_too_large"
    )
    members = gzip.compress(c.good().encode()) + gzip.compress(f"\n{SECOND}\n".encode())
    c.put("multi-member.txt.gz", members, "article")
    c.put("page.html.gz", gzip.compress(html_page(c.good()).encode()), "article")
    c.put("archive.tar.gz", gzip.compress(_tar({"a.txt": c.good()})), "unsupported_format")
    # The other compressions news dumps come in, read like gzip.
    c.put("bzip2-bomb.txt.bz2", bz2.compress(b"\0" * 60_000_000, 9), "decompressed_too_large")
    c.put("page.html.xz", lzma.compress(html_page(c.good()).encode()), "article")
    c.put("cut.txt.xz", lzma.compress((c.good() * 20).encode())[:300], "corrupt_xz")
    zstd = zstandard.ZstdCompressor()
    c.lines(
        "lines.jsonl.zst",
        [(json.dumps({"text": c.good()}).encode(), "article"), (b"{broken", "malformed_json_line")],
        pack=zstd.compress,
    )
    c.put("cut.txt.zst", zstd.compress((c.good() * 20).encode())[:300], "corrupt_zstd")


def _html(c: Corpus) -> None:
    """Pages that are too deep, too wide, bombs, broken or without text."""
    c.put("deep-unclosed.html", ("<div>" * 100_000 + f"<p>{c.good()}").encode(), "html_too_deep")
    script = "<script>" + "var words = 'the minister said the plan was good';\n" * 500
    c.put("script-only.html", f"<html><body>{script}</script></body></html>".encode(),
          "extraction_failed")  # fmt: skip
    c.put("title-only.html", b"<html><head><title>Flood plan</title></head><body></body></html>",
          "extraction_failed")  # fmt: skip
    xxe = '<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    c.put(
        "xxe.html",
        (xxe + html_page(c.good()).replace("London", "London &xxe;")).encode(),
        "article",
    )
    refs = "&amp; &lt; &#x1F600; &#0; &#xD800; &#1114112; &bogus; &"
    c.put(
        "entities.html", html_page(c.good().replace("London", f"London {refs}")).encode(), "article"
    )
    nonchar = html_page(c.good().replace("London", "London &#xFFFE;"))
    c.put("noncharacter-ref.html", nonchar.encode(), "article")
    unclosed = html_page(c.good()).replace("</article>", "<!-- never closed <p>hidden</p>")
    c.put("unclosed-comment.html", unclosed.encode(), "article")
    attrs = " " + " ".join(f'data-a{i}="{i}"' for i in range(10_000))
    c.put("attribute-flood.html", html_page(c.good(), attrs=attrs).encode(), "article")
    image = f'<img src="data:image/png;base64,{"QUFB" * 1_000_000}">'
    c.put("data-uri.html", html_page(c.good()).replace("<article>", "<article>" + image).encode(),
          "article")  # fmt: skip
    many = "".join(f"<p>Item {i} of the council agenda was read aloud.</p>" for i in range(10_000))
    c.put("wide.html", html_page(c.good()).replace("</article>", many + "</article>").encode(),
          "article")  # fmt: skip
    c.put("html-in-text.txt", html_page(c.good()).encode(), "article")
    tags = "<b><i><u><span><em>" * 20
    c.put("tag-soup.html", f"<p>{tags}{c.good()}<td><tr></th></html><html><body><p>x".encode(),
          "article")  # fmt: skip


def _text(c: Corpus) -> None:
    """Plain text with odd lines: the regular-expression killers, huge lines, odd Unicode."""
    # A one-line page is a label the line rules remove, as they do "Hello." (tiny.txt); the
    # byline of 40 names has 42 words, past the length any interface line has, so it stays.
    c.put("regex-caps.txt", REGEX_CAPS.encode(), "empty_after_cleaning")
    c.put("regex-byline.txt", REGEX_BYLINE.encode(), "article")
    # 23 names: short enough for the line rules to try, long enough to backtrack for seconds.
    c.put("regex-byline-23.txt", f"By {'Amy ' * 23}!".encode(), "empty_after_cleaning")
    c.put("byline-23-then-good.txt", f"By {'Amy ' * 23}!\n\n{c.good()}".encode(), "article")
    c.put("spaces-then-good.txt", f"{REGEX_SPACES}\n{c.good()}".encode(), "article")
    c.put("caps-then-good.txt", f"{'A' * 50_000}H!\n\n{c.good()}".encode(), "article")
    c.put("byline-then-good.txt", f"By {'Amy ' * 5000}!\n\n{c.good()}".encode(), "article")
    sentence = "The council met again on the river plan and the towns asked for more help. "
    long_line = (sentence * (LONG_LINE_CHARS // len(sentence) + 1)).strip()
    c.put("long-line.txt", f"{c.good()}\n{long_line}\n".encode(), "article")
    c.put("long-token.txt", f"{c.good()}\n{'x' * 300_000}\n".encode(), "article")
    pairs = 'He said "go" and "stop" twice. ' * 10
    quoted = "\n\n".join(pairs for _ in range(250))  # 10,000 quote marks, ~70 KB
    c.put("quotes-10k.txt", f"{c.good()}\n{quoted}\n".encode(), "article")
    opening = "Then “she “said “it " * 10
    c.put("quotes-unbalanced.txt", (c.good() + "\n" + "\n\n".join([opening] * 333)).encode(),
          "article")  # fmt: skip
    lines = "".join(f"Line {i} of the council minutes was read to the committee.\n"
                    for i in range(30_000))  # fmt: skip
    c.put("many-lines.txt", f"{c.good()}\n{lines}".encode(), "article")
    c.put("tiny.txt", b"Hello.", "empty_after_cleaning")
    c.put("crlf.txt", c.good().replace("\n", "\r\n").encode(), "article")
    c.put("cr-only.txt", c.good().replace("\n", "\r").encode(), "article")
    c.put("form-feeds.txt", c.good().replace("\n\n", "\n\f\n").encode(), "article")
    rtl = c.good().replace("London", "London \u202eنودنل\u202c \u200fمرحبا\u200f")
    c.put("rtl.txt", rtl.encode(), "article")
    zalgo = "".join(ch + "\u0301\u0316\u0328" if ch.isalpha() else ch for ch in c.good())
    c.put("combining.txt", zalgo.encode(), "article")
    emoji = c.good().replace(" the ", " the 👩🏽‍🚒🏳️‍🌈 ")
    c.put("emoji.txt", emoji.encode(), "article")
    c.put("zero-width.txt", ("\u200b\u2060\ufeff\u00ad\n" * 500).encode(), "empty_after_cleaning")


def _warc(c: Corpus) -> None:
    """WARC archives: pages among records that are none, a cut last record, a file that is
    no WARC at all."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    records: list[tuple[int, str]] = []

    def response(url: str, status: str, content_type: str, body: bytes, outcome: str) -> None:
        http = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
        records.append((out.tell(), outcome))
        writer.write_record(writer.create_warc_record(url, "response",
                                                      payload=io.BytesIO(body), http_headers=http))  # fmt: skip

    writer.write_record(writer.create_warcinfo_record("crawl.warc.gz", {"software": "test"}))
    response("http://a.test/1", "200 OK", "text/html; charset=utf-8",
             html_page(c.good()).encode(), "article")  # fmt: skip
    response("http://a.test/gone", "404 Not Found", "text/html", b"<p>gone</p>", "http_status_404")
    response("http://a.test/logo.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\n", "not_html")
    response("http://a.test/2", "200 OK", "text/html; charset=windows-1252",
             html_page(c.good()).replace("homes", "h\xf4mes").encode("cp1252"), "article")  # fmt: skip
    response("http://a.test/3", "200 OK", "text/html", html_page(c.good()).encode() * 20,
             "truncated_record")  # fmt: skip
    data = out.getvalue()
    (c.folder / "crawl.warc.gz").write_bytes(data[: records[-1][0] + 200])  # cut in the last
    for offset, outcome in records:
        c.expected[f"crawl.warc.gz#W{offset}"] = outcome
    c.put("garbage.warc.gz", gzip.compress(b"no WARC record here\n" * 50), "corrupt_warc")
    c.expected["garbage.warc.gz#W0"] = c.expected.pop("garbage.warc.gz")


def _records(c: Corpus) -> None:
    """Other tools' records: a news-please file, a table with a row lacking its text."""
    record = {"maintext": c.good(), "title": "Flood plan", "date_publish": "2024-01-02 10:00:00",
              "source_domain": "a.test", "authors": ["Ann Lee", "Bo Cruz"]}  # fmt: skip
    c.put("news-please.json", json.dumps(record).encode(), "article")
    rows = [["id", "title", "text", "author"], ["4711", "Flood plan", c.good(), "Di Eze"],
            ["4712", "No text", "", ""]]  # fmt: skip
    table = io.StringIO()
    csv.writer(table).writerows(rows)
    c.records("table.csv", table.getvalue().encode(), ["article", "missing_text"])


def _jsonl(c: Corpus) -> None:
    """JSONL lines broken in every way, one outcome per line."""

    def obj(**fields: object) -> bytes:
        return json.dumps(fields).encode()

    c.lines(
        "fields.jsonl",
        [
            (obj(text=12345), "missing_text"),
            (obj(text=[c.good()]), "missing_text"),
            (obj(text=None, html={"p": c.good()}), "missing_text"),
            (b'"just a string"', "malformed_json_line"),
            (b"null", "malformed_json_line"),
            (b"", ""),
            (b"{" + obj(text=c.good())[1:-1] + b", ", "malformed_json_line"),
            (obj(text=c.good(), title={"nested": True}, url=404, source=["x"]), "article"),
            (b'{"text": NaN}', "missing_text"),
            (obj(html=html_page(c.good())), "article"),
        ],
    )
    deep = b"[" * 100_000 + b"]" * 100_000
    huge_int = b"1" + b"0" * 4999
    c.lines(
        "limits.jsonl",
        [
            (obj(text=c.good()), "article"),
            (b'{"text": "x", "deep": ' + deep + b"}", "too_deep"),
            (b'{"text": "x", "n": ' + huge_int + b"}", "malformed_json_line"),
            (
                b'{"html": "' + b"<div>" * 5000 + _escaped(c.good()) + b'"}',
                "html_too_deep",
            ),
            (obj(text=c.good(), big=1e300), "article"),
        ],
    )
    c.lines(
        "surrogate.jsonl", [(b'{"text": "' + _escaped(c.good()) + b' \\ud800 end."}', "article")]
    )
    separated = json.dumps({"text": c.good() + "\u2028\u2028" + SECOND + "\u2029\u2028"},
                           ensure_ascii=False).encode()  # fmt: skip
    c.lines("u2028.jsonl", [(separated, "article")])
    nul_line = b'{"text": "' + _escaped(c.good()).replace(b" ", b"\x00") + b'"}'
    c.lines(
        "nul-line.jsonl",
        [
            (obj(text=c.good()), "article"),
            (nul_line, "binary_content"),
            (obj(text=c.good()), "article"),
        ],
    )
    c.put("whitespace.jsonl", ("\n".join([UNICODE_SPACES] * 50) + "\n").encode(), "empty_input")
    c.lines(
        "dates.jsonl",
        [
            (obj(text=c.good(), published_at="0001-01-01T00:00:00+05:00"), "article"),
            (obj(text=c.good(), published_at="not a date at all"), "article"),
            (obj(text=c.good(), published_at="9999-12-31T23:59:59-05:00"), "article"),
        ],
    )
    c.lines("crlf.jsonl", [(obj(text=c.good()), "article"), (obj(text=c.good()), "article"), (b"", "")],
            sep=b"\r\n")  # fmt: skip
    c.lines("lines.jsonl", [(b"\xef\xbb\xbf" + obj(text=c.good()), "article")])
    c.lines(
        "feed.jsonl.gz",
        [
            (obj(text=c.good()), "article"),
            (obj(text=SECOND * 3), "article"),
            (b"{oops", "malformed_json_line"),
        ],
        pack=gzip.compress,
    )


def _names(c: Corpus) -> None:
    """Odd file names, odd folders and suffixes; files that are no inputs at all."""
    for name in (NOT_UTF8_NAME, "back\\slash.txt", "\u202ereversed.txt", "*star[1].txt",
                 "trailing space .txt", "%41%20encoded.txt", "SHOUTING.TXT", "tab\tname.txt",
                 "a" * 240 + ".txt", "sub dir/nested deeper/article.txt", "dir.txt/inner.txt",
                 "two.suffixes.html.txt", "日本語の記事.txt", "COM1.txt"):  # fmt: skip
        c.put(name, c.good().replace("Tuesday", f"Tuesday ({len(name)})").encode(), "article")
    for name in ("notes.docx", "data.ods", "noext", "script.js", "page.php"):
        c.put(name, c.good().encode(), "unsupported_format")
    # Prose named as trafilatura's XML is no XML.
    c.put("feed.xml", c.good().encode(), "malformed_xml")
    # Prose named as a table: its quoted speech is no CSV quoting.
    c.put("prose.csv", c.good().encode(), "malformed_table")
    c.ignored(".hidden.txt", bytes(range(256)))
    c.ignored(".git/config.txt", b"[core]\n")
    c.ignored("README.md", b"# not an input\n")
    c.ignored("readme.txt", bytes(range(256)))


def _special(c: Corpus) -> None:
    """What only a file system has: a FIFO, a socket, links out, broken links, link loops."""
    folder = c.folder
    os.mkfifo(folder / "fifo.txt")
    c.expected["fifo.txt"] = "special_file"
    if len(str(folder / "socket.txt")) < 100:  # the limit of a Unix socket's path
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(folder / "socket.txt"))
        c.expected["socket.txt"] = "special_file"
    outside = folder.parent / f"{folder.name}.outside.txt"
    outside.write_text(c.good(), encoding="utf-8")
    links = {
        "link-outside.txt": (str(outside), "outside_input"),
        "link-dev-zero.txt": ("/dev/zero", "outside_input"),
        "link-inside.txt": ("good.txt", "article"),
        "broken-link.txt": ("no-such-file.txt", "broken_link"),
        "loop-a.txt": ("loop-b.txt", "link_loop"),
        "loop-b.txt": ("loop-a.txt", "link_loop"),
        "self-loop.txt": ("self-loop.txt", "link_loop"),
        "nest/up": ("..", "link_loop"),
    }
    (folder / "nest").mkdir(exist_ok=True)
    c.put("nest/story.txt", c.good().replace("Tuesday", "Wednesday").encode(), "article")
    for name, (target, outcome) in links.items():
        os.symlink(target, folder / name)
        c.expected[name] = outcome


def source_uri(name: str) -> str:
    """The `source_uri` of a file name: its path as UTF-8 text, bytes that are not as `\\xNN`."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _escaped(text: str) -> bytes:
    """A text as the inside of a JSON string."""
    return json.dumps(text).encode()[1:-1]


def _zip(files: dict[str, str]) -> bytes:
    """A zip archive of text files."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def _tar(files: dict[str, str]) -> bytes:
    """A tar archive of text files."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()
