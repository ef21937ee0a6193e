"""Handing finished parts of the campaign file to the caller's sink while compiling goes on."""

import hashlib
import queue
import threading
from typing import Final, Protocol

from ems_scheduler.campaigns.compiler.manifest import PartEntry

_POLL_SECONDS: Final = 0.2


class PartSink(Protocol):
    """Where the parts of a campaign file go (the scheduler's sink uploads them to S3).

    ``write_part`` is called once per part, in index order (1, 2, ...), from one background
    thread at a time, while the compiler goes on building the next parts. When it raises, the
    compile stops and re-raises that error; parts already written are the caller's to delete.
    """

    def write_part(self, index: int, data: bytes) -> None:
        """Store part ``index``: JSON lines, each ending with a newline."""
        ...


class PartWriter:
    """Writes parts through a sink on a background thread, with at most ``in_flight`` waiting.

    Uploading (which releases the GIL) then overlaps compiling, and memory stays bounded: the
    compiler blocks when ``in_flight`` finished parts wait. ``in_flight=0`` writes in the
    calling thread.
    """

    def __init__(self, sink: PartSink, *, in_flight: int = 2) -> None:
        self._sink = sink
        self.entries: list[PartEntry] = []
        self._error: BaseException | None = None
        self._queue: queue.Queue[tuple[int, bytes, int] | None] | None = None
        self._thread: threading.Thread | None = None
        if in_flight > 0:
            self._queue = queue.Queue(maxsize=in_flight)
            self._thread = threading.Thread(target=self._run, name="ems-part-writer", daemon=True)
            self._thread.start()

    def _write(self, index: int, data: bytes, lines: int) -> None:
        digest = hashlib.sha256(data).hexdigest()
        self._sink.write_part(index, data)
        self.entries.append(PartEntry(index=index, lines=lines, bytes=len(data), sha256=digest))

    def _run(self) -> None:
        assert self._queue is not None
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._write(*item)
                except BaseException as error:
                    self._error = error

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, index: int, data: bytes, lines: int) -> None:
        """Queue part ``index`` (blocks while ``in_flight`` parts wait); raise the sink's error."""
        if self._queue is None:
            self._write(index, data, lines)
            return
        while True:
            self._raise_if_failed()
            try:
                self._queue.put((index, data, lines), timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return

    def close(self) -> list[PartEntry]:
        """Wait until every part is written; return their entries; raise the sink's error."""
        self._stop()
        self._raise_if_failed()
        return self.entries

    def abort(self) -> None:
        """Stop without raising (the compile failed for another reason)."""
        if self._error is None:
            self._error = RuntimeError("compile aborted")
        self._stop()

    def _stop(self) -> None:
        if self._queue is not None and self._thread is not None:
            if self._error is not None:
                # Nothing more will be written: drop what waits, so the sentinel fits.
                while not self._queue.empty():
                    self._queue.get_nowait()
            self._queue.put(None)
            self._thread.join()
            self._queue = None
