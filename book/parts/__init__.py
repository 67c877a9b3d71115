"""Parts: one manifest part's Markdown → a `RenderedPart`, the body both outputs print.

The stages run in this order (`book.parts.process.process_part`): `convert` (Pandoc) → `sanitize`
(nothing active survives) → `structures` (the manuscript's conventions become designed elements,
`references` parses reference lists) → `images` (`fetch` for remote ones) → `counts` (measured on the
author's text) → typography (`book.typography`) → `render` (Jinja). `htmltree` is their shared tree.
"""
