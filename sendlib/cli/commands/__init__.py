"""Subcommands of the ``sendlib`` command line: ``configure(parser)`` and ``run(args) -> int`` each."""
