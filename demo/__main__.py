"""`python -m demo [--recipients N]`: see demo.run."""

from demo.run import main

if __name__ == "__main__":
    raise SystemExit(main())
