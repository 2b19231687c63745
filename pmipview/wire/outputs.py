"""What a running node writes besides its traffic: ``--log`` and ``--pcap``, opened and
closed together (``pmipview lma``, ``pmipview mag``)."""

from __future__ import annotations

from pmipview.wire.capture import CaptureWriter
from pmipview.wire.txlog import TransactionLog, jsonl_writer


class NodeOutputs:
    """The transaction log and the capture of one node; ``observers`` go to its Runtime.
    Opening raises OSError (with ``filename``) and leaves nothing open."""

    def __init__(self, log: str | None, pcap: str | None, name: str) -> None:
        self.txlog: TransactionLog | None = None
        self.capture: CaptureWriter | None = None
        self._log_fh = None
        try:
            if log:
                self._log_fh = open(log, "w", buffering=1)  # noqa: SIM115 - see close()
                self.txlog = TransactionLog(jsonl_writer(self._log_fh))
            if pcap:
                self.capture = CaptureWriter(open(pcap, "wb"), name)  # noqa: SIM115
        except OSError:
            if self._log_fh is not None:
                self._log_fh.close()
            raise

    @property
    def observers(self) -> list[object]:
        return [o for o in (self.txlog, self.capture) if o is not None]

    def close(self, now: float) -> None:
        """End the log (requests still open are written as such) and the capture."""
        if self.txlog is not None:
            self.txlog.close(now)
        if self._log_fh is not None:
            self._log_fh.close()
        if self.capture is not None:
            self.capture.close()
