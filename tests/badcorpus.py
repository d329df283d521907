"""The bad-input corpus: every kind of hostile or broken input, written at test time.

Big and explosive files (50 MB of text, a gzip bomb) are generated, never committed. Each entry
maps a file name to the outcome it must have: "article", or the reject reason.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

GOOD = (
    "Ministers agree new flood defence plan\n\n"
    "The government agreed on Tuesday to spend more on flood defences along the river, after "
    "a winter in which hundreds of homes were flooded in the north of the country.\n\n"
    '"We will not leave these towns to face another winter alone," the environment minister '
    "Jane Porter told reporters in London.\n\n"
    "The plan, which still needs a vote in parliament, would fund new walls and pumps in "
    "twelve towns over the next five years, officials said.\n"
)
ENTITY_BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n<html><body><p>&lol9;</p></body></html>\n"
)


def write_corpus(folder: Path) -> dict[str, str]:
    """Write the corpus into a folder; return each input's expected outcome."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}

    def put(name: str, data: bytes, outcome: str) -> None:
        (folder / name).write_bytes(data)
        expected[name] = outcome

    put("good.txt", GOOD.encode("utf-8"), "article")
    put("empty.txt", b"", "empty_input")
    put("blank.txt", b" \n\t\n", "empty_input")
    put("binary.txt", bytes(range(256)) * 64, "binary_content")
    put("png-as-text.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 32, "binary_content")
    put("nul-bytes.txt", GOOD.encode("utf-8").replace(b" ", b"\x00"), "binary_content")
    put(
        "latin-1.txt", GOOD.replace("parliament", "Parlement européen").encode("latin-1"), "article"
    )
    put(
        "cp1252.txt",
        GOOD.replace('"', "\u201c", 1).replace('"', "\u201d", 1).encode("cp1252"),
        "article",
    )
    put("utf-16.txt", GOOD.encode("utf-16"), "article")
    put("utf-16-no-bom.txt", GOOD.encode("utf-16-le"), "article")
    put("huge.txt", (GOOD * 180_000).encode("utf-8")[:50_000_000], "too_large")
    nested = "<div>" * 5000 + f"<p>{GOOD}</p>" + "</div>" * 5000
    put("deeply-nested.html", f"<html><body>{nested}</body></html>".encode(), "html_too_deep")
    paragraphs = "".join(f"<p>{p}" for p in GOOD.split("\n\n"))
    put(
        "malformed.html", f"<html><body><div><b>{paragraphs}</i></table><p <<>>".encode(), "article"
    )
    put("entity-bomb.html", ENTITY_BOMB.encode(), "too_short")
    put("gzip-bomb.txt.gz", gzip.compress(b"\0" * 60_000_000, 9), "decompressed_too_large")
    put("corrupt.txt.gz", gzip.compress(GOOD.encode())[:40], "corrupt_gzip")
    put("unsupported.pdf", b"%PDF-1.4 not an article", "unsupported_format")
    lines = [
        json.dumps({"text": GOOD, "title": "Flood plan"}),
        "{broken",
        "[1, 2]",
        json.dumps({"text": ""}),
    ]
    put("feed.jsonl", "\n".join(lines).encode(), "article")
    expected |= {"feed.jsonl#L2": "malformed_json_line", "feed.jsonl#L3": "malformed_json_line",
                 "feed.jsonl#L4": "missing_text"}  # fmt: skip
    expected["feed.jsonl#L1"] = expected.pop("feed.jsonl")
    for odd in ("spaces and ümlauts é.txt", "quote'\"and#hash?.txt", "new\nline.txt", "📰 emoji.txt",
                "-starts-with-dash.txt", "semi;colon&amp.txt"):  # fmt: skip
        put(odd, GOOD.replace("Tuesday", f"Tuesday ({len(odd)})").encode(), "article")
    return expected
