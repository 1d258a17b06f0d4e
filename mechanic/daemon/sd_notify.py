"""systemd's notify protocol with the standard library: one datagram per message.

Under `Type=notify` systemd sets $NOTIFY_SOCKET; READY=1 tells it start-up is
done, WATCHDOG=1 (every WatchdogSec/2, given as $WATCHDOG_USEC) that the daemon
still lives, STOPPING=1 that it is on its way out, STATUS= a line for
`systemctl status`. Outside systemd every call is a no-op.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # an abstract socket
            address = "\0" + address[1:]
        self.address = address
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        # WATCHDOG_PID names the process meant to ping; if it is not us, we do not.
        mine = not pid or pid == str(os.getpid())
        self.watchdog_seconds: float | None = (
            int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 and mine else None
        )

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def send(self, *lines: str) -> bool:
        """Send the lines as one message; False when there is nobody to tell."""
        if not self.address:
            return False
        message = "\n".join(lines).encode("utf-8", "replace")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self.address)
                sock.sendall(message)
        except OSError:
            return False  # systemd went away or the socket is wrong: never fatal
        return True

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", f"MAINPID={os.getpid()}", *(f"STATUS={status}",) * bool(status))

    def status(self, status: str) -> bool:
        return self.send(f"STATUS={status}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")
