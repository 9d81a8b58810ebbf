"""One module per raw source, each with the same contract.

``load_raw(raw_root=None)`` reads the raw file(s) exactly as published and validates them against a
raw schema; ``clean(raw, log)`` conforms them to the processed schema and returns the tidy table.
A source that needs other sources' tables takes them as a third argument, ``clean(raw, log, tables)``, and
names them in ``READS_TABLES`` (the cleaning starts it as soon as they are there; without the list it waits for
every source listed before it in ``ingest.clean.SOURCE_MODULES``). ``EXTRA_TABLES`` names further tables a
source makes: ``{name: (schema, columns, function)}``.
"""
