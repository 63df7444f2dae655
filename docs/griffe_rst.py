"""Griffe extension used by the docs build: render the reStructuredText bits of
spyxlike's docstrings as Markdown.

The package's docstrings mix Google style (``Args:``) and Sphinx style
(``:param x:``); mkdocstrings parses both (``docstring_style: auto``), but
leaves RST markup inside the text alone. Before parsing, this extension
rewrites, in every docstring:

* ``.. math::`` directives -> ``$$ ... $$`` display math (rendered by
  ``pymdownx.arithmatex`` + MathJax); bodies with ``\\`` line breaks are
  wrapped in ``\\begin{gathered}``;
* cross-reference roles (``:func:`x```, ``:class:`~a.b```, ...) -> code spans;
* a paragraph-ending ``::`` (RST literal block marker) -> ``:``;
* RST section titles (a line underlined with ``---`` / ``===``) -> bold text,
  so they do not become page-level headings;
* the RST escaped space in ``hk.RNNCore``\\ s -> nothing;

and ends every docstring with a newline, which griffe's style detection needs
to recognise a Sphinx field (``:param x: ...``) on the last line.

The source files are not changed; only the text mkdocstrings renders.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|obj|exc|const|term):`~?([^`]+)`")
_MATH = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<arg>.*)$")
_UNDERLINE = re.compile(r"^[ \t]*(-{3,}|={3,})[ \t]*$")


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def rst_to_markdown(text: str) -> str:
    """Rewrite the RST constructs listed in the module docstring."""
    text = _ROLE.sub(r"`\1`", text)
    text = text.replace("``\\ ", "``")
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _MATH.match(line)
        if match:
            indent = match.group("indent")
            body = [match.group("arg").strip()] if match.group("arg").strip() else []
            i += 1
            if not body:  # an argument-less directive may be followed by blank lines
                while i < len(lines) and not lines[i].strip():
                    i += 1
            while i < len(lines) and lines[i].strip() and _indent_of(lines[i]) > len(indent):
                body.append(lines[i].strip())
                i += 1
            math = "\n".join(indent + b for b in body)
            if "\\\\" in math:
                math = f"{indent}\\begin{{gathered}}\n{math}\n{indent}\\end{{gathered}}"
            if out and out[-1].strip():
                out.append("")
            out.extend([f"{indent}$$", math, f"{indent}$$", ""])
            if i < len(lines) and not lines[i].strip():
                i += 1  # the blank line after the directive is already emitted
            continue
        if (i + 1 < len(lines) and line.strip() and _UNDERLINE.match(lines[i + 1])
                and len(lines[i + 1].strip()) == len(line.strip())):
            out.append(f"{line[:_indent_of(line)]}**{line.strip()}**")
            out.append("")
            i += 2
            if i < len(lines) and not lines[i].strip():
                i += 1
            continue
        if line.rstrip().endswith("::") and not line.rstrip().endswith(" ::"):
            line = line.rstrip()[:-1]
        out.append(line)
        i += 1
    return "\n".join(out)


class RstToMarkdown(griffe.Extension):
    """Applies :func:`rst_to_markdown` to every docstring griffe collects."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:  # noqa: D102
        if obj.docstring is not None:
            # The trailing newline lets griffe's style detection see a Sphinx
            # field on the last line (its pattern needs a newline after it).
            obj.docstring.value = rst_to_markdown(obj.docstring.value).rstrip("\n") + "\n"
