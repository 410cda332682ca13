"""Data in: the canonical schema, loaders that coerce a council's files to it, the DfE SEN2 readers,
and the synthetic county generator. Imports only :mod:`sendlib.core`."""
