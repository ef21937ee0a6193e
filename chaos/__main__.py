"""`python -m chaos` (`make chaos`): a campaign sent while its services are killed and faulted.

    make chaos                                   # 3,000 recipients, a random seed
    make chaos CHAOS_ARGS="--small"              # the CI preset: 600 recipients, 3-5 minutes
    make chaos CHAOS_ARGS="--seed 42 --small"    # replay a run's plan

Exit status 0 if every accepted recipient got exactly one email, the metrics add up and every
poison message is on a DLQ with its reason; 1 otherwise. See docs/chaos.md.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace

from chaos.run import REPLAYED, SMALL, Options, run


def parse(argv: list[str] | None = None) -> Options:
    """Options from the command line."""
    defaults = Options()
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help=f"the CI preset: {SMALL}")
    parser.add_argument("--recipients", type=int, help=f"default {defaults.recipients}")
    parser.add_argument("--seed", type=int, help="replay a run (default: a random seed, printed)")
    parser.add_argument(
        "--faults-until",
        type=float,
        help=f"stop faults when this share of the emails is sent (default {defaults.faults_until})",
    )
    parser.add_argument(
        "--fault-seconds",
        type=float,
        help=f"stop faults after this long anyway (default {defaults.fault_seconds:.0f})",
    )
    parser.add_argument(
        "--deadline-s",
        type=float,
        help=f"seconds to wait once faults stop (default {defaults.deadline_s:.0f})",
    )
    args = parser.parse_args(argv)
    options = replace(defaults, **SMALL, small=True) if args.small else defaults
    chosen = {name: value for name in REPLAYED if (value := getattr(args, name)) is not None}
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    return replace(options, **chosen, seed=seed)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return 0 if run(parse(argv)) else 1


if __name__ == "__main__":
    sys.exit(main())
