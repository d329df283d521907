"""Same records: every stage's output on a mixed corpus, under a git revision and under this tree.

A restructure must not change what the stages make. This builds one corpus (the seeds, 120
WCXB pages, 150 BBC articles, 60 boilerplate pages; fixed seeds), runs ingest, clean,
normalize, entities, the merge, quotes and linking in-process under each tree (a checkout
of the revision in a temporary git worktree is the baseline), and compares the records.

    .venv/bin/python bench/records.py --rev 56625cd [--ignore source_hash]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

# Run in a child process with the tree first on the path; the flat layout of 0.3 is known too.
DUMP = r"""
import importlib, sys
from datetime import UTC, datetime
from pathlib import Path
tree, corpus, out = sys.argv[1:4]
sys.path.insert(0, tree)
flat = not Path(tree, "tasks", "ingest").is_dir()
def stage(flat_name, name):
    return importlib.import_module(flat_name if flat else name)
ingest = stage("tasks.ingest", "tasks.ingest")
clean = stage("tasks.clean", "tasks.clean.cleaner")
normalize = stage("tasks.normalize", "tasks.normalize.fields")
entities = stage("tasks.entities", "tasks.entities.mentions")
quotes = stage("tasks.quotes", "tasks.quotes.attribution")
dedup = stage("tasks.dedup", "tasks.link.dedup")
from tasks.settings import Settings
s = Settings()
found = ingest.discover(Path(corpus))
paths = getattr(found, "inputs", found)  # a list of paths before 0.5
raw, rejected = ingest.read_inputs(paths, Path(corpus), s.ingest)
docs, rejected_clean = clean.clean_documents(raw, s.clean)
articles, rejected_norm = normalize.normalize_documents(docs, s.normalize, datetime(2026, 1, 1, tzinfo=UTC))
batch = entities.extract_mentions(articles, s.entities)
linked, known = entities.canonicalize(batch.mentions, s.entities)
found, rejected_quotes = quotes.extract_quotes(articles, batch.parsed, linked, known, s.quotes)
found = quotes.cluster_quotes(found, s.quotes)
linked_articles, links, stories = dedup.link_articles(articles, s.dedup, linked, found, known)
with open(out, "w", encoding="utf-8") as fh:
    for group in (rejected, rejected_clean, rejected_norm, rejected_quotes, batch.rejects, docs,
                  articles, linked_articles, links, stories, batch.mentions, linked, known, found):
        for record in group:
            fh.write(repr(record) + "\n")
"""


def build_corpus(folder: Path) -> bool:
    """Write the mixed corpus; False when the shared data is absent."""
    wcxb, bbc = DATA / "wcxb_articles" / "html", DATA / "bbc_news" / "articles.jsonl.gz"
    plain = DATA / "plaintext_boilerplate" / "items.jsonl.gz"
    if not (wcxb.is_dir() and bbc.is_file() and plain.is_file()):
        return False
    for seed in (ROOT / "seeds").iterdir():
        shutil.copy(seed, folder / seed.name)
    for page in random.Random(1).sample(sorted(wcxb.iterdir()), 120):
        shutil.copy(page, folder / page.name)
    with gzip.open(bbc, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    with open(folder / "bbc.jsonl", "w", encoding="utf-8") as out:
        # As newsetl's own JSONL fields: every tree reads them (`body` was read from 0.5 on).
        out.writelines(json.dumps({"text": r["body"], "title": r["title"]}) + "\n"
                       for r in random.Random(2).sample(rows, 150))  # fmt: skip
    with gzip.open(plain, "rt", encoding="utf-8") as fh:
        items = [json.loads(line) for line in fh]
    for i, item in enumerate(random.Random(3).sample(items, 60)):
        (folder / f"plain{i}.txt").write_text(item["page_text"], encoding="utf-8")
    return True


def dump(tree: Path, corpus: Path, out: Path) -> list[str]:
    """The records the stages make under one tree, one repr per line."""
    subprocess.run([sys.executable, "-c", DUMP, str(tree), str(corpus), str(out)], check=True,
                   cwd=corpus.parent)  # fmt: skip
    return out.read_text(encoding="utf-8").splitlines()


def main() -> None:
    """Compare the records of the revision and of this tree; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="git revision of the baseline")
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="FIELD",
        help="compare the records without this field (repeatable)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base, corpus = Path(tmp) / "base", Path(tmp) / "corpus"
        corpus.mkdir()
        if not build_corpus(corpus):
            print(f"shared data not found under {DATA}: skipped")
            return
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base), args.rev],
                       cwd=ROOT, check=True)  # fmt: skip
        try:
            before = dump(base, corpus, Path(tmp) / "before.txt")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT,
                           check=True)  # fmt: skip
        after = dump(ROOT, corpus, Path(tmp) / "after.txt")
    if args.ignore:
        # A change that means to alter one field (an input hash) is compared on the rest.
        masked = re.compile(rf"\b({'|'.join(map(re.escape, args.ignore))})='[^']*'")
        before, after = ([masked.sub(r"\1=…", line) for line in lines] for lines in (before, after))
    differ = [i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
    print("corpus: the seeds, 120 WCXB pages, 150 BBC articles, 60 boilerplate pages")
    print(f"baseline {args.rev}: {len(before)} records; this tree: {len(after)} records")
    print(f"records that differ: {len(differ) + abs(len(before) - len(after))}")
    for i in differ[:5]:
        print(f"  - {before[i][:300]}\n  + {after[i][:300]}")


if __name__ == "__main__":
    main()
