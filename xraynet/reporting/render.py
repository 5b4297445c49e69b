"""Renderers of a report's sections: ``model_card.md`` (Markdown, images linked) and
``report.html`` (self-contained: images embedded, no scripts, no outside requests)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from ..runs import HTML_FILE, MODEL_CARD_FILE
from .contents import Bullets, Figure, Paragraph, Section, Table, gather


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em;
       color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .92em; }
th, td { border: 1px solid #bbb; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #444; }
.strong { font-weight: bold; background: #fff3cd; border: 1px solid #e0c060; padding: .5em; }
"""


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(title: str, sections: list[Section]) -> str:
    out = [f"# {title}", ""]
    for section in sections:
        out += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Paragraph):
                out += [f"**{block.text}**" if block.strong else block.text, ""]
            elif isinstance(block, Bullets):
                out += [f"- {item}" for item in block.items] + [""]
            elif isinstance(block, Table):
                out.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
                out.append("|" + "---|" * len(block.header))
                out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
                out.append("")
            elif isinstance(block, Figure):
                out += [f"![{block.caption}]({block.path})", "", f"*{block.caption}*", ""]
    return "\n".join(out)


def _data_uri(path: Path) -> str | None:
    if not path.is_file():
        return None
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def to_html(title: str, sections: list[Section], run_dir: Path) -> str:
    esc = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           '<link rel="icon" href="data:,">', f"<title>{esc(title)}</title>",
           f"<style>{STYLE}</style>", "</head>", "<body>", f"<h1>{esc(title)}</h1>"]
    for section in sections:
        out.append(f"<h2>{esc(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Paragraph):
                out.append(f'<p class="strong">{esc(block.text)}</p>' if block.strong
                           else f"<p>{esc(block.text)}</p>")
            elif isinstance(block, Bullets):
                out.append("<ul>" + "".join(f"<li>{esc(i)}</li>" for i in block.items) + "</ul>")
            elif isinstance(block, Table):
                head = "".join(f"<th>{esc(h)}</th>" for h in block.header)
                body = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>"
                               for row in block.rows)
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
            elif isinstance(block, Figure):
                uri = _data_uri(run_dir / block.path)
                if uri is None:
                    out.append(f"<p><em>(figure missing: {esc(block.path)})</em></p>")
                else:
                    out.append(f'<figure><img src="{uri}" alt="{esc(block.caption)}">'
                               f"<figcaption>{esc(block.caption)}</figcaption></figure>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def write_model_report(run_dir: str | Path) -> tuple[Path, Path]:
    """Write ``model_card.md`` and ``report.html`` into ``run_dir`` from its files."""
    run_dir = Path(run_dir)
    title, sections = gather(run_dir)
    card = run_dir / MODEL_CARD_FILE
    card.write_text(to_markdown(title, sections))
    page = run_dir / HTML_FILE
    page.write_text(to_html(title, sections, run_dir))
    return card, page
