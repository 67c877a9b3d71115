"""EPUB: the rendered parts → an EPUB 3 file, reproducible and retail-ready.

`package` wraps each rendered body in its XHTML document, adds the navigation (TOC, landmarks and
the print edition's page list when a page map is given), the accessibility metadata and the
stylesheets, and writes the zip with fixed timestamps; `fonts` subsets the CJK faces to the book's
characters; `cover` gives the cover image (the book's own, or one drawn from the printed front).
"""
