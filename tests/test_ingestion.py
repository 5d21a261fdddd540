"""Ingestion: every format, the seed's layout, and every kind of bad input."""

from __future__ import annotations

import json
import os

import pytest

from pipeline.contracts import Article, ErrorEntry
from pipeline.ingestion import build_article, ingest
from pipeline.ingestion.layout import parse_layout


def _items(paths, settings):
    items = list(ingest([str(p) for p in paths], settings))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, ErrorEntry)]


def test_seed_blocks_and_tables(seed_article):
    a = seed_article
    kinds = [b.kind for b in a.blocks]
    assert kinds.count("heading") == 4
    assert kinds.count("bullet") == 10
    assert kinds.count("table") == 3
    assert "title" not in kinds  # the seed has no title line
    assert [len(t.rows) for t in a.tables] == [3, 3, 4]
    assert a.tables[0].header == ("Strategic Element", "US Approach", "Russian Aim")
    assert a.tables[1].header == ("Policy Area", "US Focus", "Russian Response")
    assert a.tables[2].header == ("Dialogue Focus", "Potential Outcome")
    assert a.tables[2].rows[3].cells == ("Crisis Simulations", "Improved cooperation under pressure")
    for b in a.blocks:
        assert a.text[b.start:b.end] == b.text
    for t in a.tables:
        for r in t.rows:
            assert a.text[r.start:r.end] == r.text


def test_seed_sections_and_bullet_labels(seed_article):
    bullets = [b for b in seed_article.blocks if b.kind == "bullet"]
    assert bullets[0].label == "Emphasis on multipolar diplomacy"
    assert bullets[-1].label == "Joint Crisis Simulations"
    assert bullets[-1].section == "Experts recommend enhanced dialogue to manage evolving security dynamics"
    assert seed_article.blocks[0].section == ""
    assert seed_article.tables[1].section == "Analysis of key policy shifts shaping US Russia relations"


def test_seed_text_keeps_curly_quotes(seed_article):
    assert "Russia’s" in seed_article.text  # not rewritten to a straight quote
    assert seed_article.id == seed_article.content_hash  # no id given: content hash


def test_title_line_and_headings():
    text = "Talks resume in Geneva\n\nThe United States and Russia met on Monday.\n\nWhat comes next\n\nMore talks are planned."
    blocks, tables, _ = parse_layout(text)
    assert [b.kind for b in blocks] == ["title", "paragraph", "heading", "paragraph"]
    assert blocks[3].section == "What comes next"


def test_wire_copy_hard_wraps_join_into_one_paragraph():
    text = "The U.S. Agriculture Department is not\nactively considering offering wheat to the Soviet\nUnion, officials said.\n    However, analysts said the\nproposal has not been ruled out."
    blocks, _, _ = parse_layout(text)
    assert [b.kind for b in blocks] == ["paragraph", "paragraph"]
    assert blocks[0].text.endswith("officials said.")


def test_numbered_and_star_bullets():
    blocks, _, _ = parse_layout("Intro line:\n1. First: one\n* Second\n• Third")
    assert [b.kind for b in blocks] == ["paragraph", "bullet", "bullet", "bullet"]
    assert blocks[1].label == "First" and blocks[1].text == "First: one"


def test_ragged_table_and_pipes_without_separator():
    blocks, tables, warns = parse_layout("Head\n\n| a | b | c |\n|---|---|---|\n| 1 | 2 |\n| 1 | 2 | 3 | 4 |\n\n| x | y |\n| z | w |")
    assert len(tables) == 1
    assert tables[0].rows[0].cells == ("1", "2", "")
    assert len(warns) == 2
    # pipe lines with no separator are prose, not a table
    assert blocks[-1].kind == "paragraph"


def test_html_body_tables_and_boilerplate(tmp_path, settings):
    p = tmp_path / "page.html"
    p.write_text(
        "<html><head><title>T</title><script>var secret = 1;</script></head><body><nav>Home Menu</nav>"
        "<article><h1>Moscow and Washington talk</h1><p>The Kremlin welcomed the talks.</p><h2>Details</h2>"
        "<ul><li>Verification: inspections</li></ul>"
        "<table><tr><th>Area</th><th>US Position</th><th>Russian Position</th></tr>"
        "<tr><td>Arms Control <table><tr><td>nested</td></tr></table></td><td>Extend</td><td>Extend with caps</td></tr></table>"
        "</article><footer>Copyright</footer></body></html>", encoding="utf-8")
    (a,), errs = _items([p], settings)
    assert not errs
    assert a.title == "Moscow and Washington talk"
    assert "secret" not in a.text and "Home Menu" not in a.text and "Copyright" not in a.text
    assert [b.kind for b in a.blocks] == ["title", "paragraph", "heading", "bullet", "table"]
    assert a.tables[0].header == ("Area", "US Position", "Russian Position")
    assert a.tables[0].rows[0].cells[0] == "Arms Control nested"


def test_bundled_html_sample(settings):
    from conftest import ROOT

    (a,), errs = _items([ROOT / "corpus/articles/sample_page.html"], settings)
    assert len(a.tables) == 1 and len(a.tables[0].rows) == 2
    assert "analytics" not in a.text and "Subscribe" not in a.text


def test_jsonl_good_bad_and_wrong_types(tmp_path, settings):
    p = tmp_path / "a.jsonl"
    lines = [
        json.dumps({"id": "x1", "title": "T1", "text": "Russia and the US agreed.", "date": "2020-01-02"}),
        "{broken json",
        json.dumps({"id": "x2", "text": 42}),
        json.dumps(["not", "an", "object"]),
        "",
        json.dumps({"id": "x3", "text": "   "}),
        json.dumps({"text": "No id here.", "title": 7, "date": "yesterday"}),
        json.dumps({"id": {"a": 1}, "text": "Bad id."}),
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    arts, errs = _items([p], settings)
    assert [a.id for a in arts][0] == "x1"
    assert arts[0].text.startswith("T1\n\n") and arts[0].blocks[0].kind == "title"
    assert arts[0].date == "2020-01-02" and arts[0].line == 1
    assert len(arts) == 2 and len(arts[1].id) == 16  # content hash id
    assert any("date" in w for w in arts[1].warnings) and any("title" in w for w in arts[1].warnings)
    assert sorted(e.line for e in errs) == [2, 3, 4, 6, 8]
    reasons = " ".join(e.reason for e in errs)
    assert "malformed JSON" in reasons and "field 'text' is int" in reasons and "empty text" in reasons


def test_csv_articles_and_errors(tmp_path, settings):
    good = tmp_path / "a.csv"
    good.write_text('id,title,text\nc1,Hello,"The Kremlin rejected the plan.\n\nMore text."\nc2,,=HYPERLINK("x")\n', encoding="utf-8")
    arts, errs = _items([good], settings)
    assert [a.id for a in arts] == ["c1", "c2"] and not errs
    bad = tmp_path / "b.csv"
    bad.write_text("id,body\n1,no text column\n", encoding="utf-8")
    arts, errs = _items([bad], settings)
    assert not arts and "no 'text' column" in errs[0].reason


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"   \n\t\n  ", "empty file"),
        ("bin.txt", b"\x00\x01\x02PK\x03\x04" * 100, "binary"),
        ("odd.xyz", b"hello", "unsupported file type"),
    ],
)
def test_bad_files_are_reported(tmp_path, settings, name, content, reason):
    p = tmp_path / name
    p.write_bytes(content)
    arts, errs = _items([p], settings)
    assert not arts and len(errs) == 1 and reason in errs[0].reason and errs[0].path == str(p)


def test_invalid_utf8_falls_back_with_warning(tmp_path, settings):
    p = tmp_path / "latin.txt"
    p.write_bytes("Caf\xe9 talks: Russia and the US agreed.".encode("cp1252"))
    (a,), errs = _items([p], settings)
    assert "Café" in a.text and any("not valid UTF-8" in w for w in a.warnings)


def test_oversized_file(tmp_path, small_settings):
    small_settings.values["ingest"]["max_file_bytes"] = 100
    p = tmp_path / "big.txt"
    p.write_text("word " * 100, encoding="utf-8")
    arts, errs = _items([p], small_settings)
    assert not arts and "too large" in errs[0].reason


def test_missing_path_glob_and_batch_goes_on(tmp_path, settings):
    ok = tmp_path / "ok.txt"
    ok.write_text("The United States and Russia signed the treaty.", encoding="utf-8")
    arts, errs = _items([tmp_path / "nope.txt", str(tmp_path / "*.nomatch"), ok], settings)
    assert len(arts) == 1
    assert {e.reason for e in errs} == {"no such file or directory", "pattern matched no file"}


def test_folder_recursion_and_symlink_loop(tmp_path, settings):
    d = tmp_path / "dir with space é"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "a.txt").write_text("Moscow and Washington agreed.", encoding="utf-8")
    os.symlink(d, d / "sub" / "loop")
    arts, errs = _items([d], settings)
    assert len(arts) == 1
    assert any("symlink loop" in e.reason for e in errs)


def test_build_article_offsets_with_title():
    a = build_article("Body text here. Second sentence.", path="x", meta={"title": "A title"})
    for b in a.blocks:
        assert a.text[b.start:b.end] == b.text
    assert a.blocks[0].kind == "title"


def test_documentation_files_in_folders_are_skipped_with_a_warning(tmp_path, settings):
    (tmp_path / "PROVENANCE.md").write_text("| file | what |\n|---|---|\n| a | b |\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Moscow and Washington agreed.", encoding="utf-8")
    arts, errs = _items([tmp_path], settings)
    assert len(arts) == 1 and errs[0].severity == "warning" and "documentation file" in errs[0].reason
    arts, errs = _items([tmp_path / "PROVENANCE.md"], settings)  # named explicitly: read
    assert len(arts) == 1
