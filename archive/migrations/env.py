"""Alembic environment: runs on the connection handed over by ``dangan.archive.db``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import dangan.archive.api_models  # noqa: F401  (API tables join Base.metadata)
import dangan.archive.fixity_models  # noqa: F401  (fixity tables join Base.metadata)
from dangan.archive import (
    access_models,  # noqa: F401  (access requests join Base.metadata)
    audit_models,  # noqa: F401  (audit tables join Base.metadata)
)
from dangan.archive.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
