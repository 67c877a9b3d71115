"""The engine: what every stage may use to run well — cached, parallel, atomic, locked, shown.

`cache` stores stage results by the hash of their inputs, `memo` runs calls through it (in worker
processes when given a pool), `record` recognises a rebuild with nothing changed, `workers` sizes the
process pools, `atomic` writes outputs so a failed build never leaves a half-written file, `lock`
keeps two builds out of one folder, `progress` draws the terminal's progress bar. Nothing here knows
what a book is: the engine imports no stage and no model type.
"""
