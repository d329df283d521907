"""Pages named by a feed, a sitemap or a URL list: listed, fetched politely, kept as WARC."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from tasks.core.records import FetchRow, InputKind, PriorFetch, RawDocument
from tasks.core.safety import RejectError
from tasks.ingest.inputs import HTTP_PREFIXES, Input, Listed
from tasks.ingest.listing import ListedPage, Listing, ListingKind, parse_listing
from tasks.ingest.read import IngestSettings
from tasks.ingest.warc import HTML_TYPES, UNTYPED, Page, page_document
from tasks.web import Fetched, Fetcher, PageArchive, read_page
from tasks.web.fetch import DEADLINE_TIMEOUTS, MAX_CRAWL_DELAY_SECONDS

PAGE_KINDS: dict[ListingKind, InputKind] = {
    "feed": "feed",
    "sitemap": "sitemap",
    "sitemap_index": "sitemap",
    "url_list": "url_list",
}
# A listing's skipped entries are summed up in one note, with the first few as examples.
NOTE_EXAMPLES = 3
# How `parse_listing` says it stopped at the cap.
CAPPED_MARK = "past max_pages"


def is_url(given: str) -> bool:
    """Tell whether an input is a web address rather than a path."""
    return given.lower().startswith(HTTP_PREFIXES)


def list_pages(
    given: str, data: bytes | None, fetcher: Fetcher, settings: IngestSettings
) -> Listed:
    """The pages a listing names, as inputs to fetch; a listing that fails is an input rejected.

    `data` is the listing itself when it is a local file; a URL is fetched. A sitemap index's
    sitemaps are fetched in turn, each once (an index that names itself or an ancestor loops
    no further), up to `max_sitemaps`; the pages are capped at `max_listed_pages`, with a note.
    """
    notes: list[str] = []
    inputs: list[Input] = []
    seen: set[str] = set()
    pending: deque[tuple[str, bytes | None]] = deque([(given, data)])
    read: set[str] = set()
    while pending:
        where, body = pending.popleft()
        if where in read:
            notes.append(f"sitemap_loop: {where} is named again; read once")
            continue
        read.add(where)
        try:
            listing = _listing(where, body, fetcher, settings.max_listed_pages - len(seen))
        except RejectError as err:
            inputs.append(Input(where, read="page", problem=(err.reason, err.detail)))
            continue
        notes.extend(_skipped_note(where, listing))
        for child in listing.sitemaps:
            if len(read) + len(pending) >= settings.max_sitemaps:
                notes.append(f"sitemaps_capped: {where}: sitemaps past max_sitemaps "
                             f"{settings.max_sitemaps} are not read")  # fmt: skip
                break
            pending.append((child, None))
        for page in listing.pages:
            if page.url in seen:
                continue
            if len(seen) >= settings.max_listed_pages:
                notes.append(f"pages_capped: {where}: pages past max_listed_pages "
                             f"{settings.max_listed_pages} are not fetched")  # fmt: skip
                break
            seen.add(page.url)
            inputs.append(Input(page.url, read="page", page=page,
                                kind=PAGE_KINDS[listing.kind], listed_in=given))  # fmt: skip
    return Listed(inputs, notes)


def _listing(where: str, data: bytes | None, fetcher: Fetcher, room: int) -> Listing:
    """One listing parsed, fetched first when it has no bytes yet."""
    if data is None:
        answer = fetcher.fetch(where)
        if answer.reason is not None:
            raise RejectError(answer.reason, answer.detail or f"fetching the listing {where}")
        data = answer.body
    return parse_listing(data, where if is_url(where) else None, max(room, 1))


def _skipped_note(where: str, listing: Listing) -> list[str]:
    """Notes of what a listing held but gave no page: past the cap, and entries that are no
    page (a few shown)."""
    capped = [e for e in listing.skipped if CAPPED_MARK in e]
    other = [e for e in listing.skipped if CAPPED_MARK not in e]
    notes = [f"pages_capped: {where}: {e} (max_listed_pages)" for e in capped]
    if other:
        shown = "; ".join(other[:NOTE_EXAMPLES])
        notes.append(f"listing_skipped: {where}: {len(other)} entries ({shown})")
    return notes


class PageReader:
    """Fetches a run's pages and keeps each as a WARC record; remembers every fetch's outcome.

    A rerun of a date reads the pages that date kept again, without fetching them. Any other
    page fetched before is asked for conditionally: unchanged (304), it is a `not_modified`
    reject, as its article belongs to the date that fetched it. A plain class, not a
    dataclass: Prefect walks a dataclass argument's fields, and this holds a client.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        archive: PageArchive,
        warehouse: Path,
        run_date: date,
        known: Mapping[str, Sequence[PriorFetch]],
    ) -> None:
        self.fetcher = fetcher
        self.archive = archive
        self.warehouse = warehouse
        self.run_date = run_date
        self.known = known
        self.rows: dict[str, FetchRow] = {}  # by URL: a retried batch's fetch replaces the first

    @property
    def budget_seconds(self) -> float:
        """The longest one page's fetch may take: each attempt's deadline and the waits, for
        the page, each redirect hop and each new host's robots.txt."""
        s = self.fetcher.settings
        attempts = s.retries + 1
        wait = max(s.host_delay_seconds, MAX_CRAWL_DELAY_SECONDS) + s.max_backoff_seconds
        one = attempts * (DEADLINE_TIMEOUTS * s.timeout_seconds + wait)
        return 2 * (s.max_redirects + 1) * one

    @property
    def archive_name(self) -> str:
        """The archive's path relative to the warehouse, as `fetches` records it."""
        return self.archive.path.relative_to(self.warehouse).as_posix()

    def document(self, item: Input, settings: IngestSettings) -> RawDocument:
        """Fetch one listed page into a document; a RejectError says why there is none."""
        page = item.page
        if page is None:
            raise RejectError("missing_page", "an input to fetch with no page")
        kept = self.known.get(page.url, ())
        own = next((k for k in reversed(kept) if k.run_date == self.run_date), None)
        if own is not None:
            # A rerun of a date reads the pages it kept again, fetching nothing: the same rows.
            fetched = read_page(self.warehouse / own.archive, own.archive_offset)
        else:
            prior = kept[-1] if kept else None
            fetched = self.fetcher.fetch(
                page.url, *((prior.etag, prior.last_modified) if prior else (None, None))
            )
            if fetched.reason == "not_modified" and prior is not None:
                self._note(item, fetched, "not_modified")
                raise RejectError("not_modified", f"unchanged since it was fetched for run date "
                                  f"{prior.run_date}, whose article it is")  # fmt: skip
        if fetched.reason is not None:
            self._note(item, fetched, fetched.reason)
            raise RejectError(fetched.reason, fetched.detail or f"fetching {page.url}")
        stored = self.archive.add(fetched) if _may_be_html(fetched) else None
        try:
            doc = page_document(
                Page(item.uri, fetched.body, fetched.header("content-type"), fetched.final_url,
                     fetched.fetched_at, fetched.status, fetched.last_modified, item.kind),
                settings,
            )  # fmt: skip
        except RejectError as err:
            self._note(item, fetched, err.reason, stored)
            raise
        self._note(item, fetched, "article", stored)
        return _with_listing(doc, page)

    def _note(
        self, item: Input, fetched: Fetched, outcome: str, kept: tuple[int, int] | None = None
    ) -> None:
        """Remember one page's fetch for the `fetches` table."""
        url = item.page.url if item.page is not None else item.uri
        self.rows[url] = FetchRow(
            url=url,
            final_url=fetched.final_url,
            listed_in=item.listed_in,
            http_status=fetched.status,
            outcome=outcome,
            fetched_at=fetched.fetched_at,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            archive=self.archive_name if kept else None,
            archive_offset=kept[0] if kept else None,
            archive_length=kept[1] if kept else None,
        )


def _may_be_html(fetched: Fetched) -> bool:
    """Tell whether an answer is worth keeping: a page, or one that does not say what it is."""
    return (fetched.content_type or "") in (*HTML_TYPES, *UNTYPED)


def _with_listing(doc: RawDocument, page: ListedPage) -> RawDocument:
    """A fetched page's document with what its listing said (a feed's title, date, author)."""
    return replace(
        doc,
        title=page.title or doc.title,
        published_at=page.published_at or doc.published_at,
        author=page.author or doc.author,
        outlet=page.outlet or doc.outlet,
        input_id=page.entry_id or doc.input_id,
    )
