"""The printer's cover and the retailers' identifiers: book.yaml + the interior → `<slug>-cover.pdf`.

`spread` lays out the cover spread (back, spine, front) as one PDF/X-4 page; `isbn` validates the
ISBN and encodes its EAN-13 bars; `press` holds the paper table (spine width from page count and
caliper) and the press conditions (output intents) with their CMYK conversion, which the interior's
PDF stage uses too when `print.output_intent` is set; `iccgen` generates the press profiles shipped
in book/icc/. The retail checks `book check` runs on these files are book.check.retail.
"""
