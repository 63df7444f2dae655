"""Command line.

* ``spyxlike demo [--out DIR] [--epochs N] [--seed S] [--no-progress]``: the LIF
  network on the bundled digits (:mod:`spyxlike.demo`);
* ``spyxlike slayer-demo [--out DIR] [--epochs N] [--n-per-class N] [--seed S]
  [--no-progress]``: the SLAYER-style SRM conv network on the event digits
  (:mod:`spyxlike.slayer_demo`);
* ``spyxlike stdp-demo [--out DIR] [--n-train N] [--no-progress]``: STDP
  features with linear and R-STDP read-outs on the upsampled digits
  (:mod:`spyxlike.stdp_demo`).
"""

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
    slayer = sub.add_parser("slayer-demo",
                            help="train a SLAYER-style SRM conv network on N-MNIST-style event digits")
    slayer.add_argument("--out", default=".", help="output folder (default: the working directory)")
    slayer.add_argument("--epochs", type=int, default=None, help="training epochs (default 15)")
    slayer.add_argument("--n-per-class", type=int, default=None,
                        help="event digits per class, 20 %% held out (default 100)")
    slayer.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    slayer.add_argument("--no-progress", action="store_true", help="hide progress bars")
    stdp = sub.add_parser("stdp-demo",
                          help="learn single-spike STDP features on the upsampled digits, read out "
                               "with a linear SVM and an R-STDP decision layer")
    stdp.add_argument("--out", default=".", help="output folder (default: the working directory)")
    stdp.add_argument("--n-train", type=int, default=None,
                      help="leading images used for training, the rest test (default 1200)")
    stdp.add_argument("--no-progress", action="store_true", help="hide progress bars")
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
    elif args.command == "slayer-demo":
        from spyxlike.slayer_demo import SlayerDemoConfig
        from spyxlike.slayer_demo import run as slayer_run

        config = SlayerDemoConfig()
        if args.epochs is not None:
            if args.epochs < 1:
                parser.error(f"--epochs must be >= 1, got {args.epochs}")
            config = dataclasses.replace(config, epochs=args.epochs)
        if args.n_per_class is not None:
            if args.n_per_class < 2:
                parser.error(f"--n-per-class must be >= 2, got {args.n_per_class}")
            config = dataclasses.replace(config, n_per_class=args.n_per_class)
        if args.seed is not None:
            if args.seed < 0:
                parser.error(f"--seed must be >= 0, got {args.seed}")
            config = dataclasses.replace(config, seed=args.seed)
        slayer_run(args.out, config, progress=not args.no_progress)
    elif args.command == "stdp-demo":
        from spyxlike.stdp_demo import StdpDemoConfig
        from spyxlike.stdp_demo import run as stdp_run

        config = StdpDemoConfig()
        if args.n_train is not None:
            if not 20 <= args.n_train <= 1700:
                parser.error(f"--n-train must be in [20, 1700], got {args.n_train}")
            config = dataclasses.replace(config, n_train=args.n_train)
        stdp_run(args.out, config, progress=not args.no_progress)
    return 0


if __name__ == "__main__":
    sys.exit(main())
