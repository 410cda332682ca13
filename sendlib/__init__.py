"""sendlib: SEND analytics for English local authorities.

Load -> validate -> compute -> plot -> report. See README.md and docs/architecture.md.
"""

from sendlib.quarters import Quarter

__all__ = ["Quarter", "__version__"]
__version__ = "0.1.0"
