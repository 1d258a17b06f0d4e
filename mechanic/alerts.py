"""Alert channels, the one place alerts are sent from: Layer 1's health events
and Layer 2's files left to a person (truncated, in conflict, three strikes) go
to a webhook and the desktop.

The webhook gets a JSON POST. `webhook_style = "json"` (the default) sends one
object that Slack-style endpoints (Slack, Mattermost, Rocket.Chat: they read
`text`) and generic receivers both understand; "slack" sends only `text`; "ntfy"
publishes to ntfy's JSON API (the topic is the URL's last segment, posted to the
server's root). Desktop notifications use notify-send or osascript where one
exists. A channel that fails is logged and skipped for the rest of the batch
(so a dead webhook costs one timeout per cycle, not one per alert); it is never
fatal.
"""

from __future__ import annotations

import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import structlog

from mechanic.config.settings import AlertSettings
from mechanic.files.names import readable, shown
from mechanic.redact import scrub

log = structlog.get_logger("mechanic.alerts")

PRIORITY = {
    "down": 4,
    "error": 4,
    "given up": 5,
    "still given up": 5,
    "still down": 3,
    "degraded": 3,
    "needs a person": 4,
}
NEEDS_PERSON = "needs a person"


@dataclass(frozen=True)
class Alert:
    probe: str  # the probe's name; "" for a file's alert
    type: str  # the probe's type; for a file, why it needs a person (truncated...)
    event: str  # down | degraded | error | recovered | still ... | given up | needs a person
    status: str  # the health status now
    previous: str
    message: str  # the probe's last message, or the file's reason (secrets scrubbed)
    file: str = ""  # the file a person should look at (Layer 2's alerts only)

    @classmethod
    def needs_person(cls, path: Path, kind: str, reason: str) -> Alert:
        """A broken file mechanic leaves alone: truncated, in conflict, or three strikes."""
        # The reason quotes a parser's error, which can quote the code: scrub it.
        message = readable(scrub(reason))
        return cls("", kind, NEEDS_PERSON, NEEDS_PERSON, "broken", message, shown(path))

    @property
    def subject(self) -> str:
        return self.file or self.probe

    @property
    def title(self) -> str:
        return f"mechanic: {self.subject} {self.event}"

    @property
    def detail(self) -> str:
        """The body under the title: the change and the message."""
        if self.file:
            return f"{self.type}: {self.message}"
        return f"{self.previous} → {self.status}: {self.message}"

    @property
    def text(self) -> str:
        if self.file:
            return f"{self.title} ({self.detail})"
        return f"{self.title} ({self.previous} → {self.status}): {self.message}"

    def to_json(self) -> dict[str, Any]:
        about: dict[str, Any] = (
            {"file": self.file, "reason": self.type}
            if self.file
            else {"probe": self.probe, "type": self.type, "previous": self.previous}
        )
        return {
            "text": self.text,
            "title": self.title,
            "message": self.message,
            **about,
            "event": self.event,
            "status": self.status,
            "host": platform.node(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }


def webhook_request(settings: AlertSettings, alert: Alert) -> tuple[str, dict[str, Any]]:
    """The URL and JSON body to POST for `alert`, in the configured style."""
    url = settings.webhook_url
    if settings.webhook_style == "slack":
        return url, {"text": alert.text}
    if settings.webhook_style == "ntfy":
        parts = urlsplit(url)
        root, _, topic = parts.path.rstrip("/").rpartition("/")
        body = {
            "topic": topic,
            "title": alert.title,
            "message": alert.detail,
            "priority": PRIORITY.get(alert.event, 3),
            "tags": ["warning" if alert.event != "recovered" else "white_check_mark"],
        }
        return urlunsplit((parts.scheme, parts.netloc, root + "/", "", "")), body
    return url, alert.to_json()


class Alerter:
    """Sends a batch of alerts to every configured channel."""

    def __init__(self, settings: AlertSettings) -> None:
        self.settings = settings
        self.sent: list[Alert] = []

    def send_all(self, alerts: list[Alert]) -> None:
        broken: set[str] = set()
        for alert in alerts:
            # Good news is not a warning: a log filtered to warnings shows only trouble.
            level = "info" if alert.event == "recovered" else "warning"
            getattr(log, level)(
                "alert",
                **_about(alert),
                alert_event=alert.event,
                status=alert.status,
                message=alert.message,
            )
            for channel, send in self._channels():
                if channel in broken:
                    log.error("alert.skipped", channel=channel, **_about(alert))
                    continue
                try:
                    send(alert)
                except Exception as exc:  # an alert channel must never stop a cycle
                    broken.add(channel)
                    # The webhook URL can itself be a secret (Slack's are): never log it.
                    why = scrub(_why(exc), [self.settings.webhook_url])
                    log.error("alert.failed", channel=channel, **_about(alert), error=why)
            self.sent.append(alert)

    def _channels(self):
        if self.settings.webhook_url:
            yield "webhook", self._webhook
        if self.settings.desktop and _desktop_command("t", "b") is not None:
            yield "desktop", self._desktop

    def _webhook(self, alert: Alert) -> None:
        import requests  # 0.1 s to import, and most cycles send no alert

        url, body = webhook_request(self.settings, alert)
        reply = requests.post(url, json=body, timeout=self.settings.webhook_timeout_seconds)
        if reply.status_code >= 300:
            raise RuntimeError(f"HTTP {reply.status_code}: {reply.text[:200].strip()}")

    def _desktop(self, alert: Alert) -> None:
        command = _desktop_command(alert.title, alert.detail)
        assert command is not None
        subprocess.run(command, check=True, capture_output=True, timeout=10)


def _about(alert: Alert) -> dict[str, str]:
    """What an alert is about, as log fields."""
    if alert.file:
        return {"file": alert.file, "kind": "needs_a_person", "why": alert.type}
    return {"probe": alert.probe}


def _desktop_command(title: str, body: str) -> list[str] | None:
    if sys.platform == "darwin" and shutil.which("osascript"):
        script = f"display notification {_applescript(body)} with title {_applescript(title)}"
        return ["osascript", "-e", script]
    notify = shutil.which("notify-send")
    if notify:
        return [notify, "--app-name=mechanic", title, body]
    return None


def _applescript(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _why(exc: Exception) -> str:
    import requests  # imported already: only a failed webhook call gets here

    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    return f"{type(exc).__name__}: {exc}"[:300]
