"""Source: `book.yaml` and the manuscript files → a validated `BookConfig` and `Manifest`.

`config` reads book.yaml (with the typed options of `book.options`), `read` decodes each source
and splits off its front matter, `infer` and `dates` fill in what a manuscript leaves out, and
`manifest` checks the front matter and orders the parts. `lint` reports manuscript problems at their
source line. Every problem in every source is collected before the build stops.
"""
