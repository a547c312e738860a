"""The pages' shared look: inline CSS and the colour of each issue kind."""

from __future__ import annotations

from html import escape

# One colour per critique issue kind (schema.IssueKind).
KIND_COLOURS = {
    "missing": "#d62828",
    "extra": "#f77f00",
    "order": "#7b2cbf",
    "timing": "#0077b6",
    "count": "#2a9d8f",
    "loudness": "#b08900",
    "spatial": "#3a86ff",
    "quality": "#6c757d",
}

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1b1f23; background: #eef1f4; }
header, main { max-width: 1180px; margin: 0 auto; padding: 12px 20px; }
header h1 { font-size: 22px; margin: 10px 0 4px; }
.muted { color: #5c6670; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  color: #fff; background: #5c6670; margin-left: 6px; vertical-align: middle; }
.badge.best { background: #1a7f37; }
.badge.accept { background: #1a7f37; }
.badge.revise { background: #bf5700; }
.badge.failed { background: #a40e26; }
section.round, section.panel { background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12);
  margin: 16px 0; padding: 12px 18px; }
section.round.best { outline: 3px solid #1a7f37; }
section h2 { font-size: 18px; margin: 4px 0 10px; }
section h3 { font-size: 14px; margin: 10px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: #5c6670; }
img.figure { width: 100%; height: auto; border-radius: 4px; }
audio { width: 100%; margin: 6px 0; }
.columns { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 16px; }
@media (max-width: 900px) { .columns { grid-template-columns: 1fr; } }
pre { background: #f6f8fa; padding: 8px; border-radius: 4px; white-space: pre-wrap; word-break: break-word; font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e1e4e8; vertical-align: top; }
tr.flagged td { font-weight: 600; }
ul.issues { list-style: none; padding: 0; margin: 0; }
li.issue { margin: 4px 0; padding: 5px 8px; border-radius: 4px; border-left: 5px solid; }
.kind { font-weight: 700; text-transform: uppercase; font-size: 11px; margin-right: 6px; }
.error { color: #a40e26; font-weight: 600; }
figure { margin: 10px 0; }
summary h2, summary h3 { display: inline; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 12px; }
img.plot { max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: #5c6670; }
"""


def rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha:.2f})"


def kind_colour(kind: str) -> str:
    return KIND_COLOURS.get(kind, "#6c757d")


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        # An empty icon, so a browser asks for no favicon file next to the page.
        "<link rel=\"icon\" href=\"data:,\">\n"
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
