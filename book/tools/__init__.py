"""Tools: the commands beside `book build` — they use the pipeline; no stage uses them.

`preview` serves the EPUB in a local e-reader page and rebuilds it on every edit (`localserver`
bounds the server), `screenshots` photographs it, `editor` packages the book for the editor (`docx`
for tracked changes) and `send` mails the package, `bench` measures what authors wait for
(`bench_measure`, `bench_preview`, `bench_history`).
"""
