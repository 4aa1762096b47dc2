"""Alembic environment: runs on the connection Follicle hands it (see records/migrate.py)."""

from __future__ import annotations

from alembic import context

from follicle.records.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - Follicle always passes its own connection
    raise RuntimeError("run migrations with `follicle migrate`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
