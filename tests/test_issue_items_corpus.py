"""newsletter.issue.items on the shared corpus: python-frontmatter's cases split alike."""

from __future__ import annotations


def test_front_matter_corpus(corpus):
    """python-frontmatter's YAML cases split the same way; others get a clear error."""
    import json

    import yaml

    from newsletter.issue.items import split_front_matter

    base = corpus / "frontmatter" / "python-frontmatter"
    cases = sorted(
        p for d in ("yaml", "empty") for p in (base / d).glob("*") if p.suffix in (".md", ".txt")
    )
    assert cases
    for path in cases:
        expected = json.loads(path.with_suffix(".result.json").read_text(encoding="utf-8"))
        split = split_front_matter(path.read_text(encoding="utf-8"))
        if split is None:
            assert set(expected) == {"content"}, path.name
            continue
        head, body, _ = split
        meta = yaml.safe_load(head) or {}
        assert body.strip() == expected["content"].strip(), path.name
        assert json.loads(json.dumps(meta, default=str)) == {
            k: v for k, v in expected.items() if k != "content"
        }, path.name
