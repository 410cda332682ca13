"""sendlib: SEND analytics for English local authorities.

Load -> validate -> compute -> plot -> report. See README.md and docs/architecture.md.
"""

import sys

__all__ = ["Quarter", "__version__"]
__version__ = "0.1.0"


def __getattr__(name: str):
    """``sendlib.Quarter`` on first use: importing the package (and so the ``sendlib`` command)
    does not load pandas until something needs it."""
    if name == "Quarter":
        from sendlib.core.quarters import Quarter

        return Quarter
    raise AttributeError(f"module 'sendlib' has no attribute {name!r}")


def skip_slow_optional_imports() -> None:
    """Keep jsonschema from loading its optional ``rfc3987_syntax`` helper in this process.

    jsonschema (imported by nbformat, papermill and Great Expectations) loads that helper, when it
    is installed, to check the "iri" string format; at import it builds an Earley parser grammar,
    about 2 s of CPU per process. Nothing in sendlib's stack checks IRIs, and jsonschema simply
    does not check that format without it. Called by the ``sendlib`` command and before Great
    Expectations is imported; does nothing once jsonschema is already loaded (never in a
    user's kernel unless called there).
    """
    if not any(m in sys.modules for m in ("jsonschema", "rfc3987_syntax")):
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
