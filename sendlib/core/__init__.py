"""The vocabulary every layer shares: configuration, typed settings files, errors and exit codes,
UK financial-year quarters, and fingerprints for reuse. Imports nothing else from ``sendlib``."""
