"""``python -m sendlib.cli``: the same as the ``sendlib`` command."""

from sendlib.cli import main

raise SystemExit(main())
