"""The `posekit` command: list and download data sets, generate synthetic ones.

`posekit synth <name>` is assembled from the modules in `posekit/synth/`: each defines
`add_arguments(parser)` and `run(args)`, and its docstring's first line is its help.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from posekit import download, sources
from posekit import synth as synth_pkg

DEFAULT_ROOT = os.environ.get("POSEKIT_DATA", "data")


def synth_modules():
    """name -> module for every generator in posekit/synth, in name order."""
    names = sorted(m.name for m in pkgutil.iter_modules(synth_pkg.__path__))
    return {n: importlib.import_module("posekit.synth." + n) for n in names}


def describe(status):
    """Lines saying what of one data set is on disk."""
    if status.complete:
        state = "ready"
    elif any(f.state != "missing" for f in status.files):
        state = "partial"
    else:
        state = "not downloaded"
    if status.manual and not status.complete:
        state += " (part of it is obtained by request: `posekit download` prints how)"
    lines = [f"{status.name:<24} {state}    {status.root}"]
    for f in status.files:
        unpacked = " unpacked" if f.extracted else ""
        lines.append(f"    {f.dest:<36} {f.state}{unpacked}")
    return lines


def cmd_list(args):
    for name in sorted(sources.DATASETS):
        print("\n".join(describe(download.dataset_status(name, os.path.join(args.root, name)))))


def cmd_download(args):
    for name in args.names:
        target = os.path.join(args.root, name)
        download.download_dataset(name, target, accept_terms=args.accept_terms)
        print(f"{name}: ready in {target}")


def build_parser():
    parser = argparse.ArgumentParser(prog="posekit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    sub.required = True

    p = sub.add_parser("list", help="data sets and what is on disk")
    p.add_argument("--root", default=DEFAULT_ROOT, help="data root (default: %(default)s)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("download", help="download, verify and unpack data sets")
    p.add_argument("names", nargs="+", choices=sorted(sources.DATASETS), metavar="NAME")
    p.add_argument("--root", default=DEFAULT_ROOT, help="data root (default: %(default)s)")
    p.add_argument(
        "--accept-terms", action="store_true", help="you have read and accept the data set terms"
    )
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("synth", help="write a synthetic data set in the real on-disk format")
    synth_sub = p.add_subparsers(dest="dataset")
    synth_sub.required = True
    for name, module in synth_modules().items():
        doc = (module.__doc__ or name).strip().splitlines()[0]
        q = synth_sub.add_parser(name, help=doc, description=module.__doc__)
        module.add_arguments(q)
        q.set_defaults(func=module.run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (download.DownloadError, ValueError, OSError) as exc:
        sys.exit(f"posekit {args.command}: {exc}")


if __name__ == "__main__":
    main()
