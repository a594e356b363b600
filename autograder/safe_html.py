"""What of a submission an HTML page may show: formgrader's view and the HTML feedback.

Formgrader (in the instructor's browser, with the rights of the instructor's Jupyter
session) and nbgrader's HTML feedback render the autograded notebook. nbgrader's
templates put a markdown cell's HTML into the page as it is, and a code cell's HTML,
SVG and JavaScript outputs too: a submission with ``<img src=x onerror=...>`` in a
markdown cell, or a JavaScript output written into its JSON, would run its script in
the instructor's session (which can enter grades) or in the feedback page.

:func:`sanitize_notebook` makes the autograded notebook safe to render before nbgrader
writes it, so every page made from it is:

- a markdown cell stays as it is when its rendered HTML is already what the allow-list
  (:data:`TAGS`, :func:`allowed_attribute`, :data:`PROTOCOLS`) lets through; otherwise its
  source becomes the cleaned HTML (disallowed tags shown as text, disallowed attributes
  and links dropped), which renders the same everywhere because markdown leaves such a
  block alone;
- a raw cell's source is cleaned the same way;
- of a code cell's outputs, plain text, PNG and JPEG images stay, HTML is cleaned, and
  every other type (JavaScript, SVG, LaTeX, markdown, widgets) is dropped, with its
  plain-text form kept where the output has one;
- the notebook's widget state, which makes the page load the widget manager, is dropped.
"""

import html
import re

import bleach
from nbconvert.filters import markdown2html

TAGS = frozenset(
    "a abbr b blockquote br caption code del details div em h1 h2 h3 h4 h5 h6 hr i img "
    "kbd li ol p pre s span strong sub summary sup table tbody td tfoot th thead tr ul".split()
)
_NAMES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# syntax highlighting's classes (pygments' short token names, its wrapper): no class
# that could move page elements about, as a layout class of the page's stylesheet can
_HIGHLIGHT_CLASS = re.compile(r"(highlight( hl-[\w-]+)?|[a-z]{1,3}\d?)|language-[\w-]+")


def allowed_attribute(tag, name, value):
    """Whether an attribute is kept: the allow-list per tag, highlighting's classes."""
    if name == "class" and tag in ("span", "div", "code"):
        return bool(_HIGHLIGHT_CLASS.fullmatch(value))
    return name in _NAMES.get(tag, ())


PROTOCOLS = frozenset({"http", "https", "mailto"})
KEPT_OUTPUTS = frozenset({"text/plain", "image/png", "image/jpeg"})
CLEANED_OUTPUTS = frozenset({"text/html"})
WRAPPER = '<div class="autograder-sanitized">\n{}\n</div>'


def clean_html(text):
    """``text`` with only the allow-listed tags, attributes and link protocols; other
    tags are escaped (shown as text), comments dropped."""
    return bleach.clean(
        text, tags=TAGS, attributes=allowed_attribute, protocols=PROTOCOLS, strip_comments=True
    )


def _without_blank_lines(text):
    """``text`` with each blank line's newline written as ``&#10;``: an HTML block in
    markdown ends at a blank line, after which markdown would render the rest."""
    blank = re.compile(r"\n([ \t]*)\n")
    while blank.search(text):
        text = blank.sub(r"\n\1&#10;", text)
    return text


def safe_markdown(source):
    """A markdown cell's source that renders (through nbconvert's ``markdown2html``, as
    nbgrader's templates do) to allow-listed HTML only."""
    rendered = markdown2html(source)
    cleaned = clean_html(rendered)
    if cleaned == rendered:
        return source
    wrapped = WRAPPER.format(_without_blank_lines(cleaned.strip()))
    if wrapped in markdown2html(wrapped):
        return wrapped
    return f"<pre>{html.escape(source)}</pre>"  # markdown renders a <pre> block as it is


def safe_outputs(outputs):
    for output in outputs:
        data = output.get("data")
        if data is None:  # streams and errors: the templates escape their text
            continue
        for mime in list(data):
            if mime in CLEANED_OUTPUTS:
                value = data[mime]
                data[mime] = clean_html("".join(value) if isinstance(value, list) else value)
            elif mime not in KEPT_OUTPUTS:
                del data[mime]
        if not data:
            data["text/plain"] = "(an output of a type the grader does not display)"
        output.get("metadata", {}).clear()
    return outputs


def sanitize_notebook(notebook):
    """Make ``notebook`` (nbformat v4) safe to render in a browser, in place."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = safe_markdown(cell.source)
        elif cell.cell_type == "raw":
            cell.source = clean_html(cell.source)
        elif cell.cell_type == "code":
            cell.outputs = safe_outputs(cell.get("outputs", []))
    notebook.metadata.pop("widgets", None)
    return notebook
