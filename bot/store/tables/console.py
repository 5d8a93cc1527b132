"""The console's numbered buttons: a number shown once (by `wolbot chat` or `wolbot run-due`)
keeps naming the same button, in this session and the next."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.store.tables.columns import timestamp


class ConsoleButton(SQLModel, table=True):
    __tablename__ = "console_button"

    workspace_id: str = Field(primary_key=True, max_length=200)
    number: int = Field(primary_key=True)
    kind: str = Field(default="button", max_length=10)  # button | people | options
    action_id: str = Field(max_length=300)
    value: str = Field(default="", max_length=4000)  # a select's options: JSON [[label, value]]
    message_id: str = Field(max_length=200)
    channel: str = Field(max_length=200)
    thread_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = timestamp()
