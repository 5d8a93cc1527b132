"""Files for a person through Teams' file consent flow (privacy export, statistics chart).

A bot cannot attach a file in Teams: it sends a FileConsentCard to the person's personal
chat; when they accept, Teams creates the file in their OneDrive and gives the bot an
upload URL (`fileConsent/invoke`), the bot uploads and shows the file. The content waits in
`teams_pending_file` until then; declined, the person gets the text fallback instead.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
from sqlmodel import select

from bot.messages import OutboundMessage, Quote
from bot.store.engine import Database
from bot.store.tables.teams import TeamsPendingFile

log = logging.getLogger(__name__)

CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
CONTEXT_KEY = "wolbot_file"
FILE_CHUNK = 2800  # characters of text per quoted part in the fallback
UPLOAD_TIMEOUT = 10.0


class PendingFiles:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        workspace_id: str,
        user_id: str,
        conversation_id: str,
        filename: str,
        content: bytes,
        message: OutboundMessage,
    ) -> str:
        file_id = uuid.uuid4().hex
        async with self.db.session() as s:
            s.add(
                TeamsPendingFile(
                    id=file_id,
                    workspace_id=workspace_id,
                    user_id=user_id,
                    conversation_id=conversation_id,
                    filename=filename,
                    content=content,
                    message=message.model_dump_json(),
                    created_at=datetime.now(UTC),
                )
            )
            await s.commit()
        return file_id

    async def get(self, workspace_id: str, user_id: str, file_id: str) -> TeamsPendingFile | None:
        """The file, only for the person it was offered to; it stays until `remove`, so a
        click whose answer failed half-way can be made again."""
        async with self.db.session() as s:
            return (
                await s.exec(
                    select(TeamsPendingFile).where(
                        TeamsPendingFile.id == file_id,
                        TeamsPendingFile.workspace_id == workspace_id,
                        TeamsPendingFile.user_id == user_id,
                    )
                )
            ).first()

    async def remove(self, file_id: str) -> None:
        async with self.db.session() as s:
            row = await s.get(TeamsPendingFile, file_id)
            if row is not None:
                await s.delete(row)
                await s.commit()


def consent_attachment(file_id: str, filename: str, size: int, description: str) -> dict[str, Any]:
    context = {CONTEXT_KEY: file_id}
    return {
        "contentType": CONSENT_CARD,
        "name": filename,
        "content": {
            "description": description[:500],
            "sizeInBytes": size,
            "acceptContext": context,
            "declineContext": context,
        },
    }


def file_info_attachment(upload: dict[str, Any]) -> dict[str, Any]:
    return {
        "contentType": FILE_INFO_CARD,
        "contentUrl": upload.get("contentUrl"),
        "name": upload.get("name"),
        "content": {"uniqueId": upload.get("uniqueId"), "fileType": upload.get("fileType")},
    }


async def upload(url: str, content: bytes) -> None:
    """One PUT of the whole file to the upload session Teams created (files are small)."""
    size = len(content)
    headers = {"Content-Length": str(size), "Content-Range": f"bytes 0-{size - 1}/{size}"}
    timeout = aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.put(url, data=content, headers=headers) as response,
    ):
        if response.status >= 300:
            raise RuntimeError(f"upload refused: HTTP {response.status}")


def fallback_messages(row: TeamsPendingFile) -> list[OutboundMessage]:
    """Declined: a text file's content in quoted parts under its message again. A chart
    (binary) has no text to give: its message was shown with the consent card already, and
    repeating it alone would announce a chart that is not there, so nothing more is sent."""
    try:
        text = row.content.decode("utf-8")
    except UnicodeDecodeError:
        return []
    message = OutboundMessage.model_validate(json.loads(row.message))
    chunks = [text[i : i + FILE_CHUNK] for i in range(0, len(text), FILE_CHUNK)] or [""]
    return [
        message,
        *(
            OutboundMessage.of(Quote(text=chunk), Quote(text=f"{row.filename} ({n}/{len(chunks)})"))
            for n, chunk in enumerate(chunks, 1)
        ),
    ]
