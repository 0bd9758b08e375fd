"""Every error of Antrian MPP, under one root: `AntrianError`.

Each error also inherits the built-in it resembles (a bad site file is a `ValueError`,
a dead printer an `OSError`), so code that knows nothing of the project still catches
it sensibly. The `antrian` command turns any `AntrianError` into one line on stderr
and a non-zero exit (antrian/cli/main.py); nothing a technician types ends in a
traceback.

The wings' device errors (printer, audio, speech, GPIO) live here too, so the command
line can catch them without importing a wing, and so they share the root.
"""

from __future__ import annotations


class AntrianError(Exception):
    """The root of every error the project raises on purpose."""


class ConfigError(AntrianError, ValueError):
    """A site file with problems; `.problems` holds ``(path, message)`` pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = problems
        lines = [f"{source}: {p}: {m}" if p else f"{source}: {m}" for p, m in problems]
        super().__init__("\n".join(lines))


class ProtocolError(AntrianError, ValueError):
    """A message off the wire that breaks the contract; `message` is Indonesian, for the
    sender's screen, and `msg_id` the sender's id when one could be read."""

    def __init__(self, message: str, msg_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.msg_id = msg_id


# The error codes of the wire contract's Reply (docs/protocol.md). A QueueError can only
# carry one of them, so the engine cannot invent a code no client knows.
ERROR_CODES = ("bad_request", "unknown_service", "unknown_counter", "quota_exhausted", "service_closed",
               "counter_closed", "queue_empty", "not_serving", "recall_limit", "internal", "rate_limited",
               "expired", "slot_full", "booking_quota_exhausted", "booking_exists", "booking_closed",
               "unknown_booking", "checkin_early", "checkin_late",
               "unknown_ticket")


class QueueError(AntrianError, ValueError):
    """A refused request: `code` is the wire error code, `message` Indonesian for the citizen;
    `service`, for a refused check-in, the booked service (the kiosk offers a walk-in for it)."""

    def __init__(self, code: str, message: str, service: str | None = None):
        if code not in ERROR_CODES:
            raise ValueError(f"QueueError with {code!r}, which is not a wire error code ({', '.join(ERROR_CODES)})")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.service = service


class TransitionError(AntrianError, RuntimeError):
    """An event the queue's state tables do not allow (a stored history that cannot be).
    A replay sets `position`: the index of the refused event in what it replayed."""

    position: int | None = None


class EventError(AntrianError, ValueError):
    """A stored row that is no event of the queue (antrian/queue/events.py): an unknown
    kind, or data that does not fit its kind's class."""


class StoreError(AntrianError, OSError):
    """The database cannot be opened, read or written."""


# The exit status of a dispatcher that stops on a database it must not touch. The
# systemd unit lists it in RestartPreventExitStatus: restarting cannot fix the file,
# and a restart loop would hide the one line that says what is wrong.
EXIT_DATABASE = 65  # EX_DATAERR of sysexits.h


class DatabaseUnusable(StoreError):
    """A database the dispatcher refuses to run on, and will not overwrite: truncated or
    random bytes, a foreign or empty file (unless told to start a new one), a newer
    schema, an unknown event kind or a row it cannot read. The message names the file
    (and the row); the command exits with `exit_status`."""

    exit_status = EXIT_DATABASE


class CredentialsError(AntrianError, ValueError):
    """A device's broker password or CA file is missing or unreadable."""


class BrokerError(AntrianError, RuntimeError):
    """The project's Mosquitto cannot be started or stopped."""


class BrokerFilesError(AntrianError, ValueError):
    """The broker files of a site cannot be made."""


class ReportError(AntrianError, ValueError):
    """A report that cannot be made from what the store holds."""


class SimulationError(AntrianError, ValueError):
    """A simulated day that cannot be set up (bad arrivals file, a site that never opens)."""


class CommandError(AntrianError):
    """A one-line reason for a non-zero exit of the `antrian` command."""


class WingError(AntrianError, LookupError):
    """A role, command or service whose wing is not installed or does not load."""


class PrinterError(AntrianError, OSError):
    """The ticket printer cannot print now; `problem` is a status problem
    (``printer_offline``, ``paper_out``, ...) and `detail` says why, for the log."""

    def __init__(self, problem: str, detail: str):
        super().__init__(f"{problem}: {detail}")
        self.problem = problem
        self.detail = detail


class AudioError(AntrianError, RuntimeError):
    """Sound cannot be played or written."""


class SpeechError(AntrianError, RuntimeError):
    """The speech engine failed or is missing."""


class SpeechTimeout(SpeechError):
    """The speech engine did not answer in time (the watchdog restarts it)."""


class GPIOError(AntrianError, RuntimeError):
    """A pin that cannot be used: in use, missing, or no pin library on this machine."""


class MorningError(AntrianError, RuntimeError):
    """The scripted morning could not make what it promises."""
