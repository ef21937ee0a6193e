"""`python -m ems_devstack.runtime`: run a service's handler locally, as Lambda would."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from typing import Any

from ems_common.aws import AwsClients
from ems_devstack.faults import install_from_environment
from ems_devstack.runtime.sqs import SqsPoller
from ems_devstack.runtime.tick import run_ticks


def load_handler(spec: str) -> Any:
    """`package.module:function` to the function."""
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        msg = f"handler {spec!r} must look like package.module:function"
        raise SystemExit(msg)
    return getattr(importlib.import_module(module_name), attribute)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m ems_devstack.runtime", description=__doc__)
    modes = parser.add_subparsers(dest="mode", required=True)
    sqs = modes.add_parser("sqs", help="long-poll a queue into the handler (partial batches)")
    sqs.add_argument("--handler", required=True, help="package.module:function")
    sqs.add_argument("--queue-url-env", required=True, help="variable holding the queue URL")
    sqs.add_argument("--batch-size", type=int, default=10)
    sqs.add_argument("--timeout", type=float, default=60.0, help="seconds per invocation")
    sqs.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="invocations at once, each long-polling for its own batch (the event source"
        " mapping's maximum_concurrency; they share the process, as one warm container would)",
    )
    sqs.add_argument(
        "--visibility-timeout", type=int, default=None, help="override the queue's, in seconds"
    )
    tick = modes.add_parser("tick", help="call the handler on an interval (scheduled event)")
    tick.add_argument("--handler", required=True, help="package.module:function")
    tick.add_argument("--every", type=float, default=5.0, help="seconds between calls")
    tick.add_argument("--rule-arn", default="arn:aws:events:local:000000000000:rule/local")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # Fault tests switch faults on by environment; before the handler builds its clients.
    if install_from_environment():
        logging.getLogger(__name__).warning("faults installed for %s", args.handler)
    handler = load_handler(args.handler)
    name = args.handler.partition(":")[0]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    if args.mode == "sqs":
        queue_url = os.environ.get(args.queue_url_env)
        if not queue_url:
            print(f"{args.queue_url_env} is not set: run `make up` first", file=sys.stderr)
            return 2
        poller = SqsPoller(
            AwsClients().client("sqs"),
            queue_url,
            handler,
            function_name=name,
            batch_size=args.batch_size,
            timeout_s=args.timeout,
            visibility_timeout_s=args.visibility_timeout,
        )
        poller.run(stop, concurrency=args.concurrency)
    else:
        run_ticks(
            handler, every_s=args.every, function_name=name, rule_arn=args.rule_arn, stop=stop
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
