"""Data in: the registry of raw files, fetch and verify, cleaning, processed tables, agency lookup."""
