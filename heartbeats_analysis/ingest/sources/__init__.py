"""One module per raw source, each with the same contract.

``load_raw(raw_root=None)`` reads the raw file(s) exactly as published and validates them against a
raw schema; ``clean(raw, log)`` conforms them to the processed schema and returns the tidy table.
"""
