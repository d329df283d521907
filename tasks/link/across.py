"""Integrate a run date into the warehouse history: index it, link it, and merge ids across dates.

A run reads the history index of the dates within `DedupSettings.history_days` of its own,
writes the cross-date tables of every date whose rows change, and leaves the commit to the
caller (the files carry the run's attempt stem, so they count once its `runs` row lands).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from tasks.core.records import Alias, Article, Entity, EntityMention, Quote, QuoteSpan, short_hash
from tasks.lexicon.people import person_key, surname
from tasks.link import history
from tasks.link.dedup import DedupSettings
from tasks.link.history import (
    AliasTable,
    Copy,
    CrossLink,
    DateIndex,
    EntityKey,
    IdMapping,
    IndexedArticle,
    Node,
    QuoteClusterRule,
    QuoteKey,
    QuoteLink,
)
from tasks.store import reuse, write
from tasks.store.schemas import ACROSS_TABLES, INDEX_TABLES, TABLES, file_schema
from tasks.text.keys import normalize_name

log = logging.getLogger(__name__)
R = TypeVar("R")
KINDS = ("story", "quote_cluster", "entity", "duplicate_of")


@dataclass(frozen=True)
class AcrossSettings:
    """What the cross-date step needs of the run's settings."""

    dedup: DedupSettings
    quotes: QuoteClusterRule
    aliases: tuple[Alias, ...] = ()
    surname_share: float = 2 / 3


def aliases_fingerprint(aliases: Sequence[Alias]) -> str:
    """A hash of the alias file's meaning: the same aliases in any order give the same hash."""
    rows = sorted(f"{normalize_name(a.name)}\x00{normalize_name(a.canonical)}\x00{a.label or ''}"
                  for a in aliases)  # fmt: skip
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


@dataclass
class Store:
    """The warehouse's current cross-date files, under what this attempt has written so far."""

    warehouse: Path
    stems: dict[str, float]
    dates: list[date]  # every committed run date, and the run's own
    # The attempt whose files `put` writes at once (uncommitted until its `runs` row lands):
    # a pass over every date (an alias change) holds no date's files in memory. Without it,
    # they wait in `pending` for the caller to write.
    attempt: str | None = None
    pending: dict[tuple[str, date], pa.Table] = field(default_factory=dict)
    written: dict[tuple[str, date], Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    damaged: dict[tuple[str, date], Path] = field(default_factory=dict)
    _indexed: set[date] | None = None

    @classmethod
    def open(
        cls,
        warehouse: Path,
        day: date,
        attempt: str | None = None,
        commits: write.Commits | None = None,
    ) -> Store:
        """The store of a warehouse, for a run of `day` (writing as `attempt`, if given)."""
        commits = write.committed(warehouse) if commits is None else commits
        stems = write.commit_times(commits)
        dates = {date.fromisoformat(d) for d, _ in commits.values()} | {day}
        return cls(warehouse, stems, sorted(dates), attempt)

    def aliases_changed(self, aliases: Sequence[Alias]) -> bool:
        """Whether the alias file differs from the one the latest committed run mapped with.

        A run of a release before the fingerprint counts as changed only if there are aliases.
        """
        if not self.stems:
            return False
        latest = max(self.stems)
        last: str | None = None
        for path in sorted(self.warehouse.glob(f"runs/*/{latest}.parquet")):
            table = pq.read_table(path)
            if "aliases_fingerprint" in table.column_names:
                last = next((v for v in table.column("aliases_fingerprint").to_pylist() if v), None)
        if last is None:
            return bool(aliases)
        return last != aliases_fingerprint(aliases)

    def staged(self) -> set[tuple[str, date]]:
        """The (table, date) files this attempt has made."""
        return set(self.pending) | set(self.written)

    def read(self, name: str, day: date, columns: Sequence[str] | None = None) -> pa.Table | None:
        """A table's current rows of a date (this attempt's first), or None when it has none.

        A file that cannot be read, or lacks declared columns, counts as missing and is noted.
        """
        expected = list(columns or file_schema(TABLES[name]).names)
        if (name, day) in self.pending:
            return self.pending[name, day].select(expected)
        if (name, day) in self.written:
            return pq.read_table(self.written[name, day], columns=expected)
        path = write.current_file(self.warehouse, name, day, self.stems)
        if path is None or (name, day) in self.damaged:
            return None
        try:
            present = pq.read_schema(path).names
            if not set(expected) <= set(present):
                raise ValueError(f"missing columns {sorted(set(expected) - set(present))}")
            return pq.read_table(path, columns=expected)
        except (pa.ArrowException, OSError, ValueError) as err:
            self.damaged[name, day] = path
            self.warnings.append(f"history_rebuilt: {name} of {day} unreadable ({err}); rebuilt")
            log.warning("%s of %s cannot be read (%s): rebuilding it", name, day, err)
            return None

    def put(self, name: str, day: date, table: pa.Table) -> None:
        """Stage a date's new file of a table for this attempt (write it, given the attempt)."""
        if self.attempt is None:
            self.pending[name, day] = table
        else:
            self.written[name, day] = write.write_partition(
                self.warehouse, name, table, day, self.attempt
            )

    def indexed(self) -> set[date]:
        """The dates with an index file (readable or not)."""
        if self._indexed is None:
            found = [set(write.current_files(self.warehouse, name, self.stems))
                     for name in INDEX_TABLES]  # fmt: skip
            self._indexed = set.intersection(*found)
        return self._indexed | {d for n, d in self.staged() if n == INDEX_TABLES[0]}

    def bodies(self, wanted: Mapping[date, set[str]]) -> dict[str, str]:
        """The bodies of some articles of some dates."""
        out: dict[str, str] = {}
        for day, ids in sorted(wanted.items()):
            table = self.read("articles", day, ["article_id", "body"])
            if table is None:
                continue
            keep = pc.is_in(table.column("article_id"), value_set=write.value_set(ids))
            part = table.filter(keep)
            out.update(zip(part.column("article_id").to_pylist(),
                           part.column("body").to_pylist(), strict=True))  # fmt: skip
        return out


def _by_day(nodes: Iterable[tuple[date, str]]) -> dict[date, set[str]]:
    """The ids of some (date, id) pairs, by date."""
    out: dict[date, set[str]] = defaultdict(set)
    for day, local in nodes:
        out[day].add(local)
    return out


def _table(name: str, records: Iterable[object], run_id: str) -> pa.Table:
    """A cross-date table from records."""
    return write.to_table(name, records, {"run_id": run_id})


def index_tables(index: DateIndex, run_id: str) -> dict[str, pa.Table]:
    """The index tables of a date."""
    return {
        "article_index": _table("article_index", index.articles, run_id),
        "quote_index": _table("quote_index", index.quotes, run_id),
        "entity_index": _table("entity_index", index.entities, run_id),
    }


def _records(cls: type[R], table: pa.Table | None) -> list[R]:
    """Rows of a table as records of the same field names (built column-wise: a row dict
    per row costs seconds over a window of dates)."""
    if table is None or table.num_rows == 0:
        return []
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    columns = []
    for name in names:
        values = table.column(name).to_pylist()
        if pa.types.is_list(table.schema.field(name).type):
            values = [tuple(v) for v in values]
        columns.append(values)
    return [cls(*row) for row in zip(*columns, strict=True)]


def read_index(store: Store, day: date, settings: AcrossSettings, run_id: str) -> DateIndex | None:
    """A date's history index (rebuilt and staged if need be), or None when its own tables
    cannot be read either."""
    if not ensure_index(store, day, settings, run_id):
        return None
    article_rows, quote_rows, entity_rows = (store.read(name, day) for name in INDEX_TABLES)
    return DateIndex(
        day,
        tuple(_records(IndexedArticle, article_rows)),
        tuple(_records(QuoteKey, quote_rows)),
        tuple(_records(EntityKey, entity_rows)),
    )


def ensure_index(store: Store, day: date, settings: AcrossSettings, run_id: str) -> bool:
    """Make sure a date has a readable history index: rebuilt from its tables (and staged) if not.

    False when the date's own tables cannot be read either: it is left out of this run's
    links rather than linked as if it had no articles.
    """
    light = {"article_index": ["article_id"], "quote_index": ["key"], "entity_index": ["group_key"]}
    if all(store.read(name, day, columns) is not None for name, columns in light.items()):
        return True
    index = rebuild_index(store, day, settings)
    if any((name, day) in store.damaged for name in SOURCE_TABLES):
        return False
    for name, table in index_tables(index, run_id).items():
        store.put(name, day, table)
    return True


# The tables of a date its history index is built from.
SOURCE_TABLES = ("articles", "entity_mentions", "entities", "quotes")


def rebuild_index(store: Store, day: date, settings: AcrossSettings) -> DateIndex:
    """A date's history index computed again from its committed tables."""
    articles = _rows(store.read("articles", day))
    mentions = _rows(store.read("entity_mentions", day))
    entities = _rows(store.read("entities", day))
    quotes = _rows(store.read("quotes", day))
    return history.index_date(
        day,
        [_article(r) for r in articles],
        [reuse.record(EntityMention, r, ner_label=r.get("ner_label") or "") for r in mentions],
        [e for e in (_entity(r) for r in entities) if e.group_key],
        [_quote(r) for r in quotes],
        settings.dedup,
        settings.quotes,
    )


def _rows(table: pa.Table | None) -> list[dict[str, Any]]:
    """A table's rows as dicts (none for no table)."""
    return [] if table is None else table.to_pylist()


def _article(row: Mapping[str, Any]) -> Article:
    """An article record from its committed row (only what the index needs is exact)."""
    return reuse.record(Article, row, removed=(), warnings=tuple(row.get("warnings") or ()))


def _entity(row: Mapping[str, Any]) -> Entity:
    """An entity from its committed row, with the group key its id is the hash of, if found."""
    label = row["label"]
    forms = [row["canonical_name"], *(row.get("aliases") or ())]
    group = ""
    for form in forms:
        name = normalize_name(form)
        if not name:
            continue
        for key in {f"{label}:{name}", f"{label}:{person_key(name)}"}:
            if short_hash(key) == row["entity_id"]:
                group = key
    return Entity(row["entity_id"], row["canonical_name"], label, tuple(row.get("aliases") or ()),
                  row["mention_count"], row["article_count"], row.get("role"),
                  row.get("first_seen_at"), group)  # fmt: skip


def _quote(row: Mapping[str, Any]) -> Quote:
    """A quote from its committed row."""
    return reuse.record(Quote, row, spans=tuple(QuoteSpan(**x) for x in row.get("spans") or ()))


# The history index columns read for every article of the window; the vectors and casts
# are read for candidate pairs only.
LIGHT_COLUMNS = ("article_id", "content_hash", "source_uri", "local_story_id", "is_copy",
                 "published_at", "lead_weekday", "shingle_samples", "terms",
                 "quote_keys")  # fmt: skip
QUOTE_COLUMNS = ("quote_cluster_id", "key", "trigrams")


def _stack(days: Iterable[date], read: Callable[[date], pa.Table]) -> pa.Table | None:
    """One table of several dates, with a `run_date` column (None for no dates)."""
    parts = []
    for day in days:
        table = read(day)
        parts.append(table.append_column("run_date", pa.array([day] * table.num_rows, pa.date32())))
    return pa.concat_tables(parts) if parts else None


def _empty_past() -> pa.Table:
    """The light history index of no date."""
    schema = file_schema(TABLES["article_index"])
    fields_ = [schema.field(n) for n in LIGHT_COLUMNS]
    return pa.schema([*fields_, pa.field("run_date", pa.date32())]).empty_table()


class Maps:
    """The changes to the `id_map` rows of the dates this attempt touches, staged at the end.

    Only the changed rows are held: a story that runs through every date changes a few rows
    of each date's map, and a date's stored map is read (and filtered in Arrow) only when a
    lookup or a flush needs it.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        # (kind, local id) -> its new mapping, or None for one removed (the node's own id).
        self.changes: dict[date, dict[tuple[str, str], IdMapping | None]] = {}
        # The kinds of a date whose stored mappings all go.
        self.cleared: dict[date, set[str]] = {}

    def _stored(self, day: date, kind: str, keep: pc.Expression | None = None) -> dict[str, str]:
        """A date's stored mappings of a kind (those `keep` selects), by local id."""
        if kind in self.cleared.get(day, ()):
            return {}
        table = self.store.read("id_map", day)
        if table is None:
            return {}
        where = pc.field("kind") == kind
        table = table.filter(where if keep is None else where & keep)
        return dict(zip(table.column("local_id").to_pylist(),
                        table.column("global_id").to_pylist(), strict=True))  # fmt: skip

    def touched(self, day: date) -> bool:
        """Whether this attempt changed any of a date's mappings."""
        return day in self.changes or day in self.cleared

    def global_ids(self, kind: str, nodes: Iterable[Node]) -> dict[Node, str]:
        """The id across dates of each node (its own when unmapped)."""
        out: dict[Node, str] = {}
        for day, locals_ in sorted(_by_day(nodes).items()):
            changes = self.changes.get(day, {})
            keep = pc.field("local_id").isin(write.value_set(locals_))
            stored = self._stored(day, kind, keep)
            for local in locals_:
                if (kind, local) in changes:
                    mapping = changes[kind, local]
                    out[day, local] = local if mapping is None else mapping.global_id
                else:
                    out[day, local] = stored.get(local, local)
        return out

    def members(self, day: date, kind: str, seeds: set[str]) -> set[str]:
        """The local ids of a date's mapped nodes of a kind whose id across dates is a seed."""
        changes = self.changes.get(day, {})
        stored = self._stored(day, kind, pc.field("global_id").isin(write.value_set(seeds)))
        found = {local for local in stored if (kind, local) not in changes}
        return found | {
            local for (k, local), m in changes.items()
            if k == kind and m is not None and m.global_id in seeds
        }  # fmt: skip

    def replace(
        self, day: date, kind: str, mappings: Iterable[IdMapping], only: set[str] | None
    ) -> None:
        """Replace a date's mappings of a kind: all of them, or those of the `only` local ids."""
        changes = self.changes.setdefault(day, {})
        if only is None:
            self.cleared.setdefault(day, set()).add(kind)
            for key in [k for k in changes if k[0] == kind]:
                del changes[key]
        else:
            changes.update(((kind, local), None) for local in only)
        changes.update(((m.kind, m.local_id), m) for m in mappings)

    def stage(self, run_id: str) -> None:
        """Stage the id map of every date whose mappings changed."""
        for day in sorted({*self.changes, *self.cleared}):
            self.flush(day, run_id)

    def flush(self, day: date, run_id: str) -> None:
        """Stage a date's id map if its mappings changed, and let go of its changes."""
        changes = self.changes.pop(day, {})
        cleared = self.cleared.pop(day, set())
        stored = self.store.read("id_map", day)
        kept = stored
        if stored is not None:
            drop = pc.field("kind").isin(write.value_set(cleared))
            by_kind: dict[str, list[str]] = defaultdict(list)
            for kind, local in changes:
                by_kind[kind].append(local)
            for kind, locals_ in by_kind.items():
                drop = drop | ((pc.field("kind") == kind)
                               & pc.field("local_id").isin(write.value_set(locals_)))  # fmt: skip
            kept = stored.filter(~drop)
        fresh = [m for m in changes.values() if m is not None]
        table = pa.concat_tables(
            [t for t in (kept, _table("id_map", fresh, run_id)) if t is not None]
        )
        if stored is not None and _same_rows(table, stored):
            return
        order = pc.index_in(table.column("kind"), value_set=pa.array(KINDS, pa.string()))
        self.store.put("id_map", day, table.append_column("order", order)
                       .sort_by([("order", "ascending"), ("local_id", "ascending")])
                       .drop_columns(["order"]))  # fmt: skip


def update(
    store: Store,
    own: DateIndex,
    bodies: Mapping[str, str] | None,
    settings: AcrossSettings,
    run_id: str,
) -> None:
    """Integrate a run's date, after indexing the dates written before the history index.

    When the alias file changed, the run's own integration maps every date's entities again.
    """
    remap = store.aliases_changed(settings.aliases)
    unindexed = [d for d in store.dates if d != own.day and d not in store.indexed()]
    if unindexed:
        log.info("indexing %d run dates written before the history index (%s to %s)",
                 len(unindexed), unindexed[0], unindexed[-1])  # fmt: skip
        store.warnings.append(
            f"history_indexed: {len(unindexed)} run dates without a history index"
        )
    for day in unindexed:
        _integrate_stored(store, day, settings, run_id)
    integrate(store, own, bodies, settings, run_id, remap)
    # A cross-date file found unreadable on the way: its date is integrated again.
    rebuilt = {d for (name, d) in store.damaged if name in (*INDEX_TABLES, *ACROSS_TABLES)}
    for day in sorted(rebuilt - {own.day, *unindexed}):
        _integrate_stored(store, day, settings, run_id)


def _integrate_stored(store: Store, day: date, settings: AcrossSettings, run_id: str) -> None:
    """Integrate a committed date from its index (left alone if its tables cannot be read)."""
    index = read_index(store, day, settings, run_id)
    if index is not None:
        integrate(store, index, None, settings, run_id)


def integrate(
    store: Store,
    own: DateIndex,
    bodies: Mapping[str, str] | None,
    settings: AcrossSettings,
    run_id: str,
    remap: bool = False,
) -> None:
    """Link one date to the dates around it and update every date's ids that this changes.

    `bodies` are the date's article bodies, read from its files when not given; `remap`
    maps the entities of every date again (the alias file changed).
    """
    day, span = own.day, settings.dedup.history_days
    window = [d for d in store.dates if d != day and abs((d - day).days) <= span]
    old = store.read("article_index", day)
    old_quotes = store.read("quote_index", day)
    old_entities = store.read("entity_index", day)
    for name, table in index_tables(own, run_id).items():
        store.put(name, day, table)
    if bodies is None:
        bodies = store.bodies({day: {a.article_id for a in own.articles}})

    def index_of(name: str, columns: Sequence[str]) -> Callable[[date], pa.Table]:
        def read(d: date) -> pa.Table:
            table = (
                store.read(name, d, columns) if ensure_index(store, d, settings, run_id) else None
            )
            if table is None:  # a date whose tables cannot be read: no links to it this run
                return file_schema(TABLES[name]).empty_table().select(list(columns))
            return table

        return read

    past = _stack(window, index_of("article_index", LIGHT_COLUMNS))
    past_quotes = _stack(window, index_of("quote_index", QUOTE_COLUMNS))
    qlinks, matched = history.quote_links(day, own.quotes, past_quotes, settings.quotes)
    links = history.cross_links(day, own.articles, bodies, past, store.bodies,
                                lambda d, ids: _heavy(store, d, ids), matched,
                                settings.dedup)  # fmt: skip
    _replace_links(store, "history_links", day, window, links, run_id)
    _replace_links(store, "quote_links", day, window, qlinks, run_id)
    maps = Maps(store)
    _regroup_stories(store, maps, own, old, past, links)
    _regroup_quotes(store, maps, own, old_quotes, qlinks)
    _earliest_copies(maps, own, old, past, span)
    _resolve_entities(store, maps, own, old_entities, window, settings, run_id, remap)
    maps.stage(run_id)


def _heavy(store: Store, day: date, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The vectors, casts and quote keys of some indexed articles of a date."""
    columns = ["article_id", "vector_terms", "vector_weights", "cast_keys", "quote_keys"]
    table = store.read("article_index", day, columns)
    if table is None:
        return {}
    keep = pc.is_in(table.column("article_id"), value_set=write.value_set(ids))
    return {row["article_id"]: row for row in table.filter(keep).to_pylist()}


def _dates_of(link: CrossLink | QuoteLink) -> tuple[date, date]:
    """The two run dates a link joins."""
    if isinstance(link, CrossLink):
        return link.article_run_date, link.other_run_date
    return link.cluster_run_date, link.other_run_date


def _replace_links(
    store: Store,
    name: str,
    day: date,
    window: Sequence[date],
    links: Sequence[CrossLink] | Sequence[QuoteLink],
    run_id: str,
) -> None:
    """Put a date's links to other dates into the partitions of the later date of each."""
    by_partition: dict[date, list[CrossLink | QuoteLink]] = defaultdict(list)
    for link in links:
        by_partition[max(_dates_of(link))].append(link)
    _, first, _, second = DATE_LINK_COLUMNS[name]
    for part in [day, *(d for d in window if d > day)]:
        current = store.read(name, part)
        fresh = _table(name, by_partition.get(part, ()), run_id)
        if current is None:
            if fresh.num_rows or part == day:
                store.put(name, part, fresh)
            continue
        mine = pc.or_(pc.equal(current.column(first), pa.scalar(day, pa.date32())),
                      pc.equal(current.column(second), pa.scalar(day, pa.date32())))  # fmt: skip
        kept = current.filter(pc.invert(mine))
        merged = pa.concat_tables([kept, fresh])
        if not _same_rows(merged, current):
            store.put(name, part, _sorted(merged))


# The ends of a cross-date link: (id, its date, other id, its date).
DATE_LINK_COLUMNS = {
    "history_links": ("article_id", "article_run_date", "other_article_id", "other_run_date"),
    "quote_links": ("quote_cluster_id", "cluster_run_date", "other_quote_cluster_id",
                    "other_run_date"),
}  # fmt: skip


def _columns(table: pa.Table | None, *names: str) -> list[tuple[Any, ...]]:
    """Some columns of a table as rows of plain values (none for no table)."""
    if table is None:
        return []
    return list(zip(*(table.column(n).to_pylist() for n in names), strict=True))


def _links_among(store: Store, name: str, day: date, ids: pa.Array) -> list[tuple[Any, ...]]:
    """A date's cross-date links whose two ends are among `ids` (filtered before they are
    turned into Python values: a date of wire copies holds tens of thousands of links)."""
    table = store.read(name, day)
    if table is None or len(ids) == 0:
        return []
    columns = DATE_LINK_COLUMNS[name]
    keep = pc.and_(pc.is_in(table.column(columns[0]), value_set=ids),
                   pc.is_in(table.column(columns[2]), value_set=ids))  # fmt: skip
    return _columns(table.filter(keep), *columns)


def _sorted(table: pa.Table) -> pa.Table:
    """A table's rows in the order of all its columns but `run_id`."""
    return table.sort_by([(n, "ascending") for n in table.column_names if n != "run_id"])


def _same_rows(a: pa.Table, b: pa.Table) -> bool:
    """Whether two tables hold the same rows, whoever wrote them."""
    if a.num_rows != b.num_rows:
        return False
    return bool(_sorted(a).drop_columns(["run_id"]).equals(_sorted(b).drop_columns(["run_id"])))


def _members(store: Store, maps: Maps, kind: str, seeds: set[str], own: date) -> set[Node]:
    """Every node of any date but `own` whose id across dates is one of `seeds`."""
    if not seeds:
        return set()
    found: set[Node] = set()
    on_disk = []
    for day in store.dates:
        if day == own:  # the run's date: its nodes are all members anyway
            continue
        if maps.touched(day) or ("id_map", day) in store.staged():
            found.update((day, local) for local in maps.members(day, kind, seeds))
            continue
        path = write.current_file(store.warehouse, "id_map", day, store.stems)
        if path is not None:
            on_disk.append(path)
        else:  # a date without a map yet: its nodes keep their own ids
            nodes = _nodes(store, kind, day)
            found.update((day, s) for s in seeds if s in nodes)
    if not on_disk:
        return found
    partitioning = ds.partitioning(pa.schema([("run_date", pa.date32())]), flavor="hive")
    try:
        data = ds.dataset([str(p) for p in on_disk], format="parquet", partitioning=partitioning,
                          partition_base_dir=str(store.warehouse / "id_map"))  # fmt: skip
        rows = data.to_table(
            columns=["local_id", "run_date"],
            filter=(ds.field("kind") == kind) & ds.field("global_id").isin(write.value_set(seeds)),
        )
    except (pa.ArrowException, OSError):
        # A damaged map: read the dates one by one, which notes the damage.
        for path in on_disk:
            day = date.fromisoformat(path.parent.name.partition("=")[2])
            found.update((day, local) for local in maps.members(day, kind, seeds))
        return found
    found.update(zip(rows.column("run_date").to_pylist(),
                     rows.column("local_id").to_pylist(), strict=True))  # fmt: skip
    return found


def _nodes(store: Store, kind: str, day: date) -> set[str]:
    """The local ids of a date without an id map yet."""
    name, column = (
        ("article_index", "local_story_id")
        if kind == "story"
        else ("quote_index", "quote_cluster_id")
    )
    table = store.read(name, day, [column])
    return set() if table is None else set(table.column(column).to_pylist())


def _regroup_stories(
    store: Store,
    maps: Maps,
    own: DateIndex,
    old: pa.Table | None,
    past: pa.Table | None,
    links: Sequence[CrossLink],
) -> None:
    """Merge or split the stories the date's articles (old and new) belong to."""
    day = own.day
    past = past if past is not None else _empty_past()
    story_of = dict(zip(past.column("article_id").to_pylist(),
                        zip(past.column("run_date").to_pylist(),
                            past.column("local_story_id").to_pylist(), strict=True),
                        strict=True))  # fmt: skip
    nodes = {(day, s) for s in _column(old, "local_story_id")}
    for link in links:
        for article, when in ((link.article_id, link.article_run_date),
                              (link.other_article_id, link.other_run_date)):  # fmt: skip
            if when != day and article in story_of:
                nodes.add(story_of[article])
    seeds = set(maps.global_ids("story", nodes).values())
    members = _members(store, maps, "story", seeds, day)
    members |= {(day, a.local_story_id) for a in own.articles}
    names: dict[Node, str] = {}
    article_node: dict[tuple[date, str], Node] = {}
    stories_of = _by_day(members)
    for member_day, stories in sorted(stories_of.items()):
        if member_day == day:
            indexed = [(a.article_id, a.local_story_id, a.story_name) for a in own.articles]
        else:
            table = store.read("article_index", member_day,
                               ["article_id", "local_story_id", "story_name"])  # fmt: skip
            if table is not None:
                table = table.filter(pc.field("local_story_id").isin(write.value_set(stories)))
            indexed = [] if table is None else list(zip(*table.to_pydict().values(), strict=True))
        for article_id, story, name in indexed:
            node = (member_day, story)
            if node in members:
                names[node] = name
                article_node[member_day, article_id] = node
    linked = write.value_set({article for _, article in article_node})

    def edges() -> Iterator[tuple[Node, Node]]:
        for member_day in sorted(stories_of):
            for a_id, a_day, b_id, b_day in _links_among(store, "history_links", member_day,
                                                         linked):  # fmt: skip
                first, second = article_node.get((a_day, a_id)), article_node.get((b_day, b_id))
                if first is not None and second is not None:
                    yield first, second

    _apply(maps, "story", day, history.merged_ids(names, edges()))


def _apply(maps: Maps, kind: str, day: date, merged: Mapping[Node, str]) -> None:
    """Record regrouped nodes: every node of the run's date, and the members of other dates."""
    by_day: dict[date, list[IdMapping]] = defaultdict(list)
    for node, global_id in merged.items():
        by_day[node[0]].append(IdMapping(kind, node[1], global_id))
    maps.replace(day, kind, by_day.pop(day, []), None)
    for member_day, mapped in by_day.items():
        maps.replace(member_day, kind, mapped, {m.local_id for m in mapped})


def _column(table: pa.Table | None, name: str) -> list[Any]:
    """A column's values (none for no table)."""
    return [] if table is None else table.column(name).to_pylist()


def _regroup_quotes(
    store: Store,
    maps: Maps,
    own: DateIndex,
    old: pa.Table | None,
    qlinks: Sequence[QuoteLink],
) -> None:
    """Merge or split the quote clusters the date's quotes (old and new) belong to."""
    day = own.day
    nodes = {(day, c) for c in _column(old, "quote_cluster_id")}
    nodes |= {(ql.other_run_date, ql.other_quote_cluster_id) for ql in qlinks}
    seeds = set(maps.global_ids("quote_cluster", nodes).values())
    members = _members(store, maps, "quote_cluster", seeds, day)
    members |= {(day, q.quote_cluster_id) for q in own.quotes}
    clusters_of = _by_day(members)
    names: dict[Node, str] = {}
    for member_day, clusters in sorted(clusters_of.items()):
        if member_day == day:
            rows = [(q.quote_cluster_id, q.key) for q in own.quotes]
        else:
            table = store.read("quote_index", member_day, ["quote_cluster_id", "key"])
            if table is not None:
                table = table.filter(pc.field("quote_cluster_id").isin(write.value_set(clusters)))
            rows = _columns(table, "quote_cluster_id", "key")
        for cluster, key in rows:
            node = (member_day, cluster)
            if node in members:
                names[node] = min(names.get(node, key), key)
    wanted = write.value_set({cluster for _, cluster in members})

    def edges() -> Iterator[tuple[Node, Node]]:
        for member_day in sorted(clusters_of):
            for a_id, a_day, b_id, b_day in _links_among(store, "quote_links", member_day, wanted):
                yield (a_day, a_id), (b_day, b_id)

    _apply(maps, "quote_cluster", day, history.merged_ids(names, edges()))


def _earliest_copies(
    maps: Maps, own: DateIndex, old: pa.Table | None, past: pa.Table | None, span: int
) -> None:
    """Point each copy of the date's texts at its earliest copy on an earlier date."""
    day = own.day
    hashes = set(_column(old, "content_hash")) | {a.content_hash for a in own.articles}
    pool = [Copy(day, a.source_uri, a.article_id, a.content_hash) for a in own.articles]
    past = past if past is not None else _empty_past()
    for when, uri, article, content in zip(past.column("run_date").to_pylist(),
                                           past.column("source_uri").to_pylist(),
                                           past.column("article_id").to_pylist(),
                                           past.column("content_hash").to_pylist(), strict=True):  # fmt: skip
        if content in hashes:
            pool.append(Copy(when, uri, article, content))
    targets = [c for c in pool if c.day >= day]
    found = history.earliest_copies(targets, pool, span)
    by_day = _by_day((c.day, c.article_id) for c in targets)
    for target_day, ids in sorted(by_day.items()):
        rows = [IdMapping("duplicate_of", a, found[a]) for a in sorted(ids) if a in found]
        maps.replace(target_day, "duplicate_of", rows, None if target_day == day else ids)
    if day not in by_day:
        maps.replace(day, "duplicate_of", (), None)


def _resolve_entities(
    store: Store,
    maps: Maps,
    own: DateIndex,
    old: pa.Table | None,
    window: Sequence[date],
    settings: AcrossSettings,
    run_id: str,
    remap: bool,
) -> None:
    """Give the entities of the date, and the bare surnames of other dates it changes, ids.

    The date's own full names (before and after this run) can change what a bare surname
    of a date within `history_days` means; nothing else of another date can change.
    """
    day, span = own.day, settings.dedup.history_days
    aliases = AliasTable.of(settings.aliases)
    if remap:
        _resolve_everything(store, maps, own, settings, aliases, run_id)
        return
    touched = {
        name
        for key in [*_column(old, "group_key"), *(e.group_key for e in own.entities)]
        if (name := _full_name_surname(history.aliased(key, aliases)[0])) is not None
    }
    targets: list[tuple[date, EntityKey]] = [(day, e) for e in own.entities]
    for d in window:
        targets += [(d, e) for e in _entities(store, d, settings, run_id, aliases, BARE)
                    if _bare_surname(e.group_key, aliases) in touched]  # fmt: skip
    wanted = touched | {_bare_surname(e.group_key, aliases) for e in own.entities} - {None}
    around = sorted({d for t, _ in targets for d in store.dates if abs((d - t).days) <= span})
    people = [(d, e) for d in around for e in _people(store, d, settings, run_id, own, aliases)
              if _full_name_surname(history.aliased(e.group_key, aliases)[0]) in wanted]  # fmt: skip
    found = history.resolve_entities(targets, people, aliases, span, settings.surname_share)
    by_day: dict[date, list[IdMapping]] = defaultdict(list)
    for (target_day, _), mapping in found.items():
        by_day[target_day].append(mapping)
    maps.replace(day, "entity", by_day.pop(day, []), None)
    for target_day, mapped in by_day.items():
        maps.replace(target_day, "entity", mapped, {m.local_id for m in mapped})


def _resolve_everything(
    store: Store,
    maps: Maps,
    own: DateIndex,
    settings: AcrossSettings,
    aliases: AliasTable,
    run_id: str,
) -> None:
    """Map the entities of every date again (the alias file changed), a date at a time.

    Only the people of the dates around the one being mapped are held, and each date's map
    is written as soon as it is made: memory stays that of a window whatever the history.
    """
    span = settings.dedup.history_days
    people: dict[date, list[EntityKey]] = {}
    for target in store.dates:
        around = [d for d in store.dates if abs((d - target).days) <= span]
        for gone in [d for d in people if d not in around]:
            del people[gone]
        for d in around:
            if d not in people:
                people[d] = _people(store, d, settings, run_id, own, aliases)
        entities = own.entities if target == own.day else _entities(store, target, settings, run_id)
        found = history.resolve_entities(
            [(target, e) for e in entities],
            [(d, e) for d in around for e in people[d]],
            aliases,
            span,
            settings.surname_share,
        )
        maps.replace(target, "entity", found.values(), None)
        if target != own.day:
            maps.flush(target, run_id)


# Group keys of people, and of bare surnames: the entities that surnames across dates concern.
PEOPLE = r"^PERSON:"
BARE = r"^PERSON:[^ ]+$"


def _entities(
    store: Store,
    day: date,
    settings: AcrossSettings,
    run_id: str,
    aliases: AliasTable | None = None,
    pattern: str | None = None,
) -> list[EntityKey]:
    """A date's indexed entities (none when its tables cannot be read).

    With a pattern, only the group keys it matches and the names the alias file has (which
    it may turn into one), filtered before they become records.
    """
    if not ensure_index(store, day, settings, run_id):
        return []
    table = store.read("entity_index", day)
    if table is not None and pattern is not None:
        keep = pc.match_substring_regex(table.column("group_key"), pattern)
        if aliases is not None and aliases.target:
            names = pc.replace_substring_regex(table.column("group_key"), r"^[^:]*:", "")
            known = write.value_set({*aliases.target, *aliases.people})
            keep = pc.or_(keep, pc.is_in(names, value_set=known))
        table = table.filter(keep)
    return _records(EntityKey, table)


def _people(
    store: Store,
    day: date,
    settings: AcrossSettings,
    run_id: str,
    own: DateIndex,
    aliases: AliasTable | None = None,
) -> list[EntityKey]:
    """A date's person entities (and names the alias file may make people)."""
    if day == own.day:
        return list(own.entities)
    return _entities(store, day, settings, run_id, aliases, PEOPLE)


def _full_name_surname(key: str) -> str | None:
    """The surname of a full-name person group key, else None."""
    label, _, name = key.partition(":")
    return surname(name) if label == "PERSON" and len(name.split()) >= 2 else None


def _bare_surname(key: str, aliases: AliasTable) -> str | None:
    """The surname a bare-surname person group stands for, else None."""
    aliased, display = history.aliased(key, aliases)
    if display is not None or not history.is_bare_surname(aliased):
        return None
    return aliased.partition(":")[2]
