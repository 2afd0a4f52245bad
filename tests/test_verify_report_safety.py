"""The Markdown verification report shows a file's own text as it is and never as markup: a title,
source, quote, note, reason, reading name or formula holding a link, an image, an autolink or raw
HTML is rendered by a real Markdown renderer (markdown-it-py) as that very text, with no <a>, <img>
or other tag from the file. The escaping rule itself (reports._inert) against hand-written outputs;
the text and JSON reports keep the file's text unchanged."""

from __future__ import annotations

import html
import json
import re

import pytest
from conftest import SEED_CHAIN

import symbackprop
from symbackprop.verifier import reports
from symbackprop.verifier.reports import _inert

CHAIN = SEED_CHAIN.read_text().split("\n[[claims]]")[0]
TITLE = "[t](javascript:alert(1)) <b>bold</b> *em* a@b.com www.evil.com"
SOURCE = "<img_src=x_onerror=alert(1)>:7"  # FILE:LINE allows any FILE without ':' or blanks
QUOTE = ("[link](javascript:alert(1)) ![img](http://e.example/x.png) <script>s()</script> `c` "
         "https://evil.example/p <https://auto.example> evil.com ~~s~~ $x$ {onclick=y} | pipe")
NOTE = "*n* <u>u</u> [n]: javascript:n"  # a claim's note is in the JSON report only
REASON = "[r](javascript:r) <em>r</em> _r_"
READING = "<i>r</i>[x](javascript:x)"
FORMULA = "<b>z</b> = [x](javascript:x)"
FROM_THE_FILE = [TITLE, SOURCE, QUOTE, REASON, READING, FORMULA]
# what a renderer may emit: the report's own structure, and **mismatch**
STRUCTURE = {"h1", "h2", "p", "table", "thead", "tbody", "tr", "th", "td", "br", "strong"}


def toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of these characters is a TOML basic string


def hostile_file(tmp_path):
    text = CHAIN.replace('title = "Two ReLU neurons a -> b (seed 003, chapter 2)"', f"title = {toml_string(TITLE)}", 1)
    assert text != CHAIN
    text += f"""
[readings.{toml_string(READING)}]
parameters = {{ w_a1 = 0.2 }}

[readings.plain]

[[claims]]
quantity = "z_a"
stated = "0.5"
source = {toml_string(SOURCE)}
quote = {toml_string(QUOTE)}
note = {toml_string(NOTE)}

[[claims]]
quantity = "z_b"
stated = "0.804"
status = "unverifiable"
reason = {toml_string(REASON)}
source = "t.txt:2"
quote = "q"

[[claims]]
formula = {toml_string(FORMULA)}
source = "t.txt:3"
quote = "f"
"""
    path = tmp_path / "hostile.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return symbackprop.verify(hostile_file(tmp_path_factory.mktemp("safety")))


def renderers():
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py (the dev extras) renders the report")
    out = {"commonmark+gfm tables": markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])}
    try:
        import linkify_it  # noqa: F401  (optional: markdown-it's fuzzy links, "evil.com" -> <a>)
        out["with linkify"] = markdown_it.MarkdownIt("commonmark", {"linkify": True}).enable(["table", "strikethrough", "linkify"])
    except ImportError:
        pass
    return out


def tags(rendered: str) -> set[str]:
    return {m.lower() for m in re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", rendered)}


def shown_text(rendered: str) -> str:
    """What a reader sees: the tags dropped, entities decoded, the word joiner before an @ removed."""
    return html.unescape(re.sub(r"<[^>]*>", " ", rendered)).replace("\u2060", "")


def test_the_markdown_report_renders_to_no_tag_from_the_file(report):
    md = reports.markdown([report])
    assert md.count("\n## ") == 1 and "\n| " in md
    for name, renderer in renderers().items():
        rendered = renderer.render(md)
        assert tags(rendered) <= STRUCTURE, (name, tags(rendered) - STRUCTURE)
        assert "<a" not in rendered and "<img" not in rendered and "<script" not in rendered, name
        assert len(re.findall(r"<h2>", rendered)) == 1 and rendered.count("<table>") == 1, name
        seen = shown_text(rendered)
        for text in FROM_THE_FILE:
            assert text in seen, (name, text)  # shown as it is, every character


def test_the_markdown_report_has_no_raw_markup_from_the_file(report):
    md = reports.markdown([report])
    for fragment in ("<b>", "<script>", "<img", "<u>", "<em>", "<i>", "<https://"):
        assert fragment not in md, fragment
    assert not re.search(r"(?<!\\)\]\(|(?<!\\)!(?<!\\)\[|(?<!\\)`", md)  # no link, image or code span opens
    assert "\\[link\\](javascript\\:alert(1))" in md
    assert "&lt;script&gt;s()&lt;/script&gt;" in md
    assert "a&#8288;@b\\.com" in md  # GFM links a bare e-mail address whatever it holds: a word joiner breaks it


@pytest.mark.parametrize("text, expected", [
    ("[x](javascript:alert(1))", "\\[x\\](javascript\\:alert(1))"),
    ("![i](p.png)", "\\!\\[i\\](p\\.png)"),
    ('<a href="x">&', "&lt;a href=&quot;x&quot;&gt;&amp;"),
    ("`code` *e* _u_ ~s~ $m$ {a} #", "\\`code\\` \\*e\\* \\_u\\_ \\~s\\~ \\$m\\$ \\{a\\} \\#"),
    ("a\\b", "a\\\\b"),
    ("line one\n  line two", "line one line two"),
    ("mail a@b.com", "mail a&#8288;@b\\.com"),
    ("plain words, 0 and (1)", "plain words, 0 and (1)"),
    ("a | b", "a | b"),  # the table escapes its pipes, for every cell (reports._row)
])
def test_the_one_escaping_rule(text, expected):
    assert _inert(text) == expected


def test_a_pipe_stays_in_its_cell(report):
    row = next(line for line in reports.markdown([report]).splitlines() if "pipe" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 7  # six cells; the quote's own pipe is escaped
    for name, renderer in renderers().items():
        rendered = renderer.render(reports.markdown([report]))
        rows = re.findall(r"<tr>(.*?)</tr>", rendered, re.S)
        assert rows and all(r.count("<td>") + r.count("<th>") == 6 for r in rows), name


def test_text_and_json_keep_the_file_text(report):
    data = json.loads(reports.to_json([report]))
    assert data[0]["title"] == TITLE
    assert data[0]["readings"] == [READING, "plain"]
    number = [c for c in data[0]["claims"] if c.get("quantity") == "z_a"]
    assert [c["reading"] for c in number] == [READING, "plain"]
    assert {c["source"] for c in number} == {SOURCE} and {c["quote"] for c in number} == {QUOTE}
    assert {c["note"] for c in number} == {NOTE}
    assert [c["reason"] for c in data[0]["claims"] if c.get("quantity") == "z_b"] == [REASON, REASON]
    assert [c["formula"] for c in data[0]["claims"] if c.get("formula")] == [FORMULA, FORMULA]
    text = reports.text([report])
    assert text.splitlines()[0].endswith(f": {TITLE}") and f'({SOURCE}: "{QUOTE}")' in text


def test_the_bundled_json_is_not_escaped():
    data = json.loads(reports.to_json([symbackprop.verify(SEED_CHAIN)]))
    assert data[0]["title"] == "Two ReLU neurons a -> b (seed 003, chapter 2)"
    assert data[0]["claims"][0]["quote"] == "Bias ba0 = 1.0 > neuron-b via weight Wa0 = 0.5"
