"""Command line: ``spyxlike demo [--out DIR] [--epochs N] [--no-progress]``."""

from __future__ import annotations

import argparse
import dataclasses
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="spyxlike", description="spyxlike command line")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train a LIF network on the bundled digits and plot it")
    demo.add_argument("--out", default=".", help="output folder (default: the working directory)")
    demo.add_argument("--epochs", type=int, default=None, help="training epochs (default 40)")
    demo.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    demo.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from spyxlike.demo import DemoConfig, run

        config = DemoConfig()
        if args.epochs is not None:
            if args.epochs < 1:
                parser.error(f"--epochs must be >= 1, got {args.epochs}")
            config = dataclasses.replace(config, epochs=args.epochs)
        if args.seed is not None:
            config = dataclasses.replace(config, seed=args.seed)
        run(args.out, config, progress=not args.no_progress)
    return 0


if __name__ == "__main__":
    sys.exit(main())
