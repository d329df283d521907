"""The shared spaCy pipeline: sentences never run across a line break."""

from __future__ import annotations

from tasks import nlp
from tasks.entities import EntitySettings


def test_a_sentence_never_runs_across_a_paragraph_break() -> None:
    text = (
        "Republicans were quick to chime in, with Donald Trump calling it a disaster\n\n"
        "Sanders appeared to dismiss the email issue in October.\n"
        "On Friday he remarked that nothing had changed"
    )
    doc = nlp.load_model(EntitySettings().model)(text)
    starts = [s.text.split()[0] for s in doc.sents]
    assert starts == ["Republicans", "Sanders", "On"]
    assert all("\n" not in s.text.strip() for s in doc.sents)
