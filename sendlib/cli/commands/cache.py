"""``sendlib cache``: the report's private reuse store (results of identical inputs).

``sendlib report`` keeps the quality gate's result, the loaded tables and the seeded projection
of identical inputs so that a re-run skips them (docs/report.md, "Reuse between runs"). They are
person-level, so they live outside the output folder: ``paths.cache_dir`` in the config, else the
user's cache folder, owner-only, in files that cannot run code when read (no pickle).

``sendlib cache info`` prints where the store is, how many results it holds and their size;
``sendlib cache clear`` deletes them (files sendlib did not write there are left alone).
``sendlib report --fresh`` computes everything again without clearing (and keeps the new results).
"""

from __future__ import annotations

import argparse

from sendlib.cli.commands.common import add_cache_dir, config_from_args


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    info = sub.add_parser("info", help="print where the reuse store is, and its size")
    clear = sub.add_parser("clear", help="delete every result kept in the reuse store")
    for p in (info, clear):
        add_cache_dir(p)
        # the sub-parsers need --config too (the main parser adds it to `cache` itself)
        p.add_argument("--config", metavar="F", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _size(n_bytes: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n_bytes < 1024 or unit == "GB":
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes} bytes"  # pragma: no cover


def run(args: argparse.Namespace) -> int:
    from sendlib.report import runcache

    cfg = config_from_args(args)
    store = runcache.cache_dir_of(cfg)
    if args.cache_command == "clear":
        n, size = runcache.clear_store(store)
        print(f"sendlib cache: cleared {store}: {n} stored result(s), {_size(size)}")
        return 0
    n, size = runcache.store_size(store)
    reuse = "on" if cfg.report.reuse else "off (report.reuse: false)"
    where = "set by --cache-dir or paths.cache_dir" if cfg.cache_dir is not None else "the user's cache folder"
    print(f"cache folder: {store} ({where})")
    print(f"stored results: {n}, {_size(size)}")
    print(f"reuse between runs: {reuse}")
    return 0
