"""Runs the real bot (`python -m bot run`) as a separate process against the Bot API emulator."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bot.devtools.emulator import EmulatorThread
from bot.settings import PROJECT_ROOT


class BotProcess:
    def __init__(self, emulator: EmulatorThread, database_url: str, log_path: Path):
        self.emulator = emulator
        self.log_path = log_path
        self.env = {
            **os.environ,
            "NVQBOT_TELEGRAM_TOKEN": "123456:TEST",
            "NVQBOT_TELEGRAM_API_URL": emulator.base_url,
            "NVQBOT_TELEGRAM_FILE_URL": emulator.base_file_url,
            "NVQBOT_DATABASE_URL": database_url,
            "NVQBOT_POLL_TIMEOUT": "1",
            # Reminder tests choose their own sweep; others keep reminders out of the way.
            "NVQBOT_REMINDER_SWEEP_SECONDS": "3600",
            # A scripted phone sends far faster than a person: only the flood tests (tests/test_flood.py) are held.
            "NVQBOT_MESSAGES_PER_MINUTE": "1000000",
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0, wait_for_polling: bool = True) -> "BotProcess":
        """Start the bot and wait until it polls for updates (a standby does not: `wait_for_polling=False`)."""
        polls_before = self._polls()
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], env=self.env, cwd=PROJECT_ROOT, stdout=log, stderr=log
        )
        if not wait_for_polling:
            return self
        deadline = time.monotonic() + timeout
        while self._polls() == polls_before:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not start polling:\n{self.log_path.read_text()}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def _polls(self) -> int:
        return sum(1 for call in self.emulator.calls if call["method"] == "getUpdates")


def nvqbot(database_url: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the nvqbot CLI as a person would."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**os.environ, "NVQBOT_DATABASE_URL": database_url, **(env or {})},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
