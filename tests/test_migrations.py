"""Migrations are the only way the schema changes: they go up and down cleanly and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from backend import schema
from backend.config import Settings


def test_downgrade_to_base_and_upgrade_to_head(settings: Settings, engine: Engine) -> None:
    try:
        schema.downgrade(settings.database_url, "base")
        engine.dispose()
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert names == set()
    finally:
        schema.upgrade_head(settings.database_url)
        engine.dispose()
    assert schema.is_up_to_date(engine)
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def test_autogenerate_finds_no_difference_from_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_constraints_follow_the_naming_convention(engine: Engine) -> None:
    inspector = inspect(engine)
    for fk in inspector.get_foreign_keys("audit_event"):
        assert fk["name"] == "fk_audit_event_actor_id_user_account"
    assert inspector.get_pk_constraint("user_account")["name"] in (
        "pk_user_account",
        None,
    )  # SQLite keeps no pk name
