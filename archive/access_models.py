"""Access requests (档案查阅受理, DB 6523/T 370 §6.4.7): who asks to read what, for whom, why.

Why a table and not only log entries: a view or download must find the approved request
that covers it (scope, period) at once; the audit log keeps the evidence of each step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    requester: Mapped[str] = mapped_column(String(64), index=True)  # login
    on_behalf_of: Mapped[str] = mapped_column(Text)  # the person or body the reading is for
    purpose: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(8))  # item | case | person
    target: Mapped[str] = mapped_column(String(128))  # aip id | "system/case id" | id number
    days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|approved|refused
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
