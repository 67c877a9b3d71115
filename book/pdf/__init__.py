"""PDF: the rendered parts → a print-ready PDF per profile (print PDF/X-4, screen PDF/UA-1, review).

`document` makes the print HTML document and the profile's stylesheets from the same bodies the EPUB
packages; `layout` lays it out with WeasyPrint (patched by `weasy`) and reads the page map off the
pages; `single` writes the book as one document, `parallel` lays the parts out in worker processes
and `stitch` assembles them (`furniture` for folios and running heads, `subset` for the fonts, once
per book); `finish` makes the file reproducible and print-safe; `pagerefs` prints the pages that
cross-chapter links point to.
"""
