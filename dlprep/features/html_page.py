"""The one HTML page shell the cheat sheet and the report share: a
self-contained, printable document (inline CSS, no scripts, no network)."""

from __future__ import annotations

from html import escape


def page(title: str, css: str, body: list[str]) -> str:
    """A complete HTML document with ``css`` inline and ``body`` as its content."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{escape(title)}</title>\n'
        f"<style>{css}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
