"""``python -m sendlib.quality build``: regenerate the Great Expectations project in ``expectations/``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sendlib.quality.suites import build_project


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sendlib.quality build [DIR]``: regenerate the committed GX project."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "build":
        print("usage: python -m sendlib.quality build [EXPECTATIONS_DIR]", file=sys.stderr)
        return 2
    target = build_project(args[1] if len(args) > 1 else None)
    print(f"wrote Great Expectations project to {target}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
