"""What formgrader and the HTML feedback may show of a submission (autograder.safe_html)."""

import re
from pathlib import Path

import nbformat
import pytest
from bleach._vendor import html5lib
from nbconvert.filters import markdown2html

from autograder.safe_html import clean_html, safe_markdown, sanitize_notebook

REPO = Path(__file__).resolve().parents[1]
ACTIVE_TAGS = {"script", "iframe", "object", "embed", "svg", "math", "form", "style", "base"}


def active_content(html):
    """What a browser would run or load from a piece of HTML, parsed as browsers parse it
    (html5lib implements the WHATWG parsing algorithm): elements that run or embed
    content, event-handler and style attributes, script URLs."""
    found = []
    for element in html5lib.parse(html, namespaceHTMLElements=False).iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag.split("}")[-1] in ACTIVE_TAGS:
            found.append(f"<{tag}>")
        for name, value in element.attrib.items():
            name = name if isinstance(name, str) else name[1]
            if name.startswith("on") or name == "style":
                found.append(f"{tag} {name}=")
            url = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if url.startswith(("javascript:", "vbscript:", "data:text")):
                found.append(f"{tag} {name}={value}")
    return found


def visible_text(html):
    body = html5lib.parse(html, namespaceHTMLElements=False).find("body")
    return " ".join("".join(body.itertext()).split())


PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "[click](JaVa&#115;cript:alert(1))",
    "<javascript:alert(1)>",
    "[a]: javascript:alert(1)\n\n[a]",
    "<svg><script>alert(1)</script></svg>",
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<a href='javascript:alert(1)'>x</a>",
    '<div style="position:fixed;top:0">fake grade: 100</div>',
    "<details open ontoggle=alert(1)>x</details>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<!--><img src=x onerror=alert(1)>-->",
    "```\ncode\n\n\n<img src=x onerror=alert(1)>\n```\n\n<img src=x onerror=alert(1)>",
    "text\n\n<div>\n\n<img src=x onerror=alert(1)>\n\n</div>",
    "<form action=javascript:alert(1)><button>go</button></form>",
    "<object data=javascript:alert(1)></object>",
    "<base href=javascript:alert(1)//>",
    "<a href=' javascript:alert(1)'>x</a> <a href='\tjavascript:alert(1)'>y</a>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_markdown_cell_renders_without_active_content(payload):
    rendered = markdown2html(safe_markdown(payload))  # as nbgrader's templates render it
    assert active_content(rendered) == []
    assert active_content(markdown2html(payload)) or "style" in payload or "<form" in payload


def release_markdown():
    for path in sorted((REPO / "release").glob("*/*.ipynb")):
        for cell in nbformat.read(path, 4).cells:
            if cell.cell_type == "markdown":
                yield path.stem, cell.source


@pytest.mark.parametrize("source", [s for _, s in release_markdown()])
def test_the_course_markdown_reads_the_same(source):
    """Every markdown cell of the releases shows the same text after sanitizing: what an
    honest notebook holds is not lost."""
    before, after = markdown2html(source), markdown2html(safe_markdown(source))
    assert active_content(before) == []
    assert visible_text(after) == visible_text(before)


def test_honest_markdown_keeps_its_formatting():
    source = (
        "# Heading\n\nSome *emphasis*, `code` and $a < b$.\n\n```python\nx = 1\n\ny = 2\n```\n\n"
        "> a quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "[link](https://example.org) <br> x<sub>2</sub>"
    )
    rendered = markdown2html(safe_markdown(source))
    for piece in (
        "<h1>",
        "<em>emphasis</em>",
        "<code>code</code>",
        "$a &lt; b$",
        "<blockquote>",
        "<table>",
        '<a href="https://example.org">link</a>',
        "<sub>2</sub>",
        '<span class="n">x</span>',
    ):
        assert piece in rendered, piece
    code = html5lib.parse(rendered, namespaceHTMLElements=False).find(".//pre")
    assert "".join(code.itertext()) == "x = 1\n\ny = 2\n"  # blank lines in code are kept


def test_outputs_keep_text_and_images_and_drop_what_runs():
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/javascript": "alert(1)",
                "text/html": "<b>bold</b><script>alert(1)</script>",
                "image/svg+xml": "<svg onload=alert(1)></svg>",
                "text/markdown": "[x](javascript:alert(1))",
                "application/vnd.jupyter.widget-view+json": {"model_id": "m"},
                "image/png": "iVBORw0KGgo=",
                "text/plain": "<Figure>",
            },
        ),
        nbformat.v4.new_output("display_data", data={"application/javascript": "alert(1)"}),
        nbformat.v4.new_output("stream", name="stdout", text="<printed>"),
    ]
    notebook.cells = [cell, nbformat.v4.new_raw_cell("<script>alert(1)</script>")]
    sanitize_notebook(notebook)
    first, second, stream = cell.outputs
    assert set(first.data) == {"text/html", "image/png", "text/plain"}
    assert first.data["text/html"].startswith("<b>bold</b>&lt;script&gt;")
    assert set(second.data) == {"text/plain"}
    assert stream.text == "<printed>"  # the templates escape streams
    assert "widgets" not in notebook.metadata
    assert notebook.cells[1].source == "&lt;script&gt;alert(1)&lt;/script&gt;"
    nbformat.validate(notebook)


def test_clean_html_keeps_tables_and_drops_layout_classes():
    table = "<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"
    assert clean_html(table) == table
    assert clean_html('<div class="navbar-fixed-top">x</div>') == "<div>x</div>"
    assert clean_html('<span class="mi">1</span>') == '<span class="mi">1</span>'
