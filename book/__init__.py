"""book: turns Markdown manuscripts with YAML front matter into an EPUB 3 and a print PDF."""

__version__ = "0.1.0"
