"""The emulator as one server: the Bot API, the file server and the control API on one loopback port."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.devtools.emulator.bot_api import BotApi
from bot.devtools.emulator.control import ControlApi

log = logging.getLogger("bot.devtools.emulator")


class BotApiEmulator(BotApi, ControlApi):
    """Serves the Bot API methods nvqbot uses, plus a control API under ``/_emu/``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, bot_username: str = "nvqbot_demo_bot"):
        super().__init__(host, port, bot_username)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.add_routes(
            [
                web.get("/bot{token}/{method}", self._handle_api),
                web.post("/bot{token}/{method}", self._handle_api),
                web.get("/file/bot{token}/{file_path:.+}", self._handle_file),
                web.post("/_emu/message", self._ctl_message),
                web.post("/_emu/callback", self._ctl_callback),
                web.post("/_emu/voice", self._ctl_voice),
                web.post("/_emu/photo", self._ctl_photo),
                web.post("/_emu/edit", self._ctl_edit),
                web.get("/_emu/sent", self._ctl_sent),
                web.get("/_emu/calls", self._ctl_calls),
            ]
        )
        self._closing = False
        # A short shutdown_timeout: in-flight long polls are released by stop() anyway. Handler cancellation:
        # a request whose client went away (a bot killed mid long poll) ends with it, as at Telegram.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        log.info("Bot API emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._closing = True
        await self._notify(self._updates_changed)  # long polls return at once
        await self._runner.cleanup()
        self._runner = None

    @property
    def _url_host(self) -> str:
        return "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host

    @property
    def base_url(self) -> str:
        return f"http://{self._url_host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self._url_host}:{self.port}/file/bot"

    @property
    def control_url(self) -> str:
        return f"http://{self._url_host}:{self.port}/_emu"
