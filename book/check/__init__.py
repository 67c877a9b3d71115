"""Checks: built files → validators' verdicts (`CheckResult`), one line each, for `book check`.

`epubcheck` runs EPUBCheck (in the background during a build), `epub` the EPUB's validators and our
retail rules, `pdf` the PDF's fonts and print-file rules, `page_audit` the printed page (line grid, foot, keeps), `typography` measures the typesetting
rules on both outputs, `retail` what a store or the printer would reject (the EPUB's cover size and
ISBN, the cover spread's spine and barcode).
"""
