"""The repository carries every document its code and docs cite (every cited Markdown file exists here)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITATION = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)\b")
SOURCES = [p for pattern in ("server/**/*.py", "jobs/**/*.py", "tests/**/*.py", "*.md", "server/**/*.md",
                             "deploy/**/*.md", "miniprogram/**/*.md", "miniprogram/**/*.js")
           for p in ROOT.glob(pattern) if "node_modules" not in p.parts]


def test_every_cited_document_is_in_the_repository():
    missing = []
    for source in SOURCES:
        for cited in CITATION.findall(source.read_text(encoding="utf-8", errors="replace")):
            if not ((ROOT / cited).exists() or (source.parent / cited).exists()):
                missing.append(f"{source.relative_to(ROOT)} cites {cited}")
    assert missing == []
