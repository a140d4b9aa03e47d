"""Sending a candidate's evidence records to an assessor as PDF documents.

Queued in the outbox like any reply (so a restart does not lose it) and made only when sent: the
documents are rendered off the event loop, from what the database holds at that moment.
"""

import asyncio
from functools import partial

from sqlalchemy import Engine
from telegram import Bot

from bot.documents import DOCUMENT_KINDS, render_pdf
from bot.domain.banks import Banks
from bot.domain.evidence import record_for
from bot.storage.db import transaction

EVIDENCE_CALL = "nvqbot.sendEvidence"


def _render(engine: Engine, banks: Banks, candidate: int, unit: str) -> list[tuple[str, bytes]]:
    with transaction(engine) as session:
        record = record_for(session, banks, candidate, unit)
    return [(f"{unit}_{candidate}_{kind}.pdf", render_pdf(kind, record)) for kind in DOCUMENT_KINDS]


async def send_evidence(bot: Bot, engine: Engine, banks: Banks, params: dict) -> int | None:
    """Render and send the documents; the id of the last message sent."""
    loop = asyncio.get_running_loop()
    documents = await loop.run_in_executor(None, partial(_render, engine, banks, params["candidate"], params["unit"]))
    message = None
    for filename, content in documents:
        message = await bot.send_document(params["chat_id"], document=content, filename=filename)
    return message.message_id if message else None
