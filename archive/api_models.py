"""Tables of the JSON API: access tokens (stored hashed) and submission jobs.

Why jobs are rows: a case submitted through the API is answered at once and filed in
the background (a Celery worker or a thread of whichever web worker took it); the
status URL may be read by any worker, so the state lives in the catalogue database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # exactly one of: a case-handling system (may only submit, as itself) or a user login
    system: Mapped[str | None] = mapped_column(String(64), nullable=True)
    login: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiJob(Base):
    __tablename__ = "api_jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    submitted_by: Mapped[str] = mapped_column(String(128))  # system:<name> or user:<login>
    upload_path: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
