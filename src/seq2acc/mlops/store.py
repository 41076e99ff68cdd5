"""The MLflow backend store for a team: safe concurrent first use of SQLite, PostgreSQL URIs.

Why: ``dvc queue start -j N`` starts N training stages at once against one store. On a fresh SQLite file
MLflow lets every process create the schema at the same moment, and all but one fail ("duplicate column
name", "Online migration expected to match one row"). :func:`ensure_store` creates or upgrades the schema
once, under an exclusive file lock next to the database, and switches SQLite to WAL journalling so the
MLflow UI and other readers never block a writer (MLflow already sets ``busy_timeout`` = 20 s per session,
which serialises concurrent writers). A PostgreSQL store has the same first-use race; it is serialised
with an advisory lock (see docs/team-workflow.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
from pathlib import Path
from urllib.parse import quote, urlsplit

from seq2acc.errors import InputError

log = logging.getLogger(__name__)

_READY: set[str] = set()


def sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for other stores or in-memory SQLite)."""
    if not uri.startswith("sqlite:"):
        return None
    path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else ""
    path = path.split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path("/" + path.lstrip("/")) if uri.startswith("sqlite:////") else Path(path)


@contextlib.contextmanager
def _file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


_LOCK_ID = 0x5E02ACC  # advisory lock key of the schema initialisation


@contextlib.contextmanager
def _db_lock(uri: str):
    """Server-side lock held on its own connection while the schema is created (PostgreSQL/MySQL).

    Concurrent first use of an empty PostgreSQL database fails the same way as SQLite (two alembic runs:
    "duplicate key ... alembic_version"); an advisory lock serialises them.
    """
    import sqlalchemy

    engine = sqlalchemy.create_engine(uri, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as con:
            if uri.startswith("postgresql"):
                con.execute(sqlalchemy.text(f"SELECT pg_advisory_lock({_LOCK_ID})"))
                release = f"SELECT pg_advisory_unlock({_LOCK_ID})"
            else:
                con.execute(sqlalchemy.text("SELECT GET_LOCK('seq2acc_mlflow_schema', 600)"))
                release = "SELECT RELEASE_LOCK('seq2acc_mlflow_schema')"
            con.commit()
            try:
                yield
            finally:
                con.execute(sqlalchemy.text(release))
                con.commit()
    finally:
        engine.dispose()


def ensure_store(uri: str, artifact_root: str | Path | None = None) -> str:
    """Create/upgrade the MLflow schema of ``uri`` once (safe when many processes start together); returns uri.

    SQLite: under ``<db>.lock``, the schema is created and the journal set to WAL. PostgreSQL/MySQL: the
    same under a server-side advisory lock. Tracking servers (http://) manage their own schema.
    """
    if uri in _READY:
        return uri
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    root = Path(artifact_root).resolve().as_uri() if artifact_root and "://" not in str(artifact_root) else (
        str(artifact_root) if artifact_root else Path.cwd().joinpath("mlartifacts").as_uri())
    db = sqlite_path(uri)
    if db is None:
        if uri.startswith(("postgresql", "mysql")):
            with _db_lock(uri):
                SqlAlchemyStore(uri, root).engine.dispose()
        elif uri.startswith("mssql"):
            SqlAlchemyStore(uri, root).engine.dispose()
        _READY.add(uri)
        return uri
    with _file_lock(db.with_name(db.name + ".lock")):
        if not db.exists() or db.stat().st_size == 0:
            _create_sqlite(db, root)
        else:
            _open_sqlite(db, uri, root)
    _READY.add(uri)
    return uri


def _set_wal(db: Path) -> None:
    with contextlib.closing(sqlite3.connect(db, timeout=60)) as con:
        mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        log.warning("%s: SQLite refused WAL journalling (mode %s; a network filesystem?) - concurrent "
                    "runs may wait on each other; use a PostgreSQL store for a team", db, mode)


def _create_sqlite(db: Path, artifact_root: str) -> None:
    """Build the schema in a temporary file next to ``db`` and rename it into place.

    MLflow's schema is some 50 migrations; a process killed half-way (a scheduler's SIGTERM, Ctrl-C during the
    first `dvc repro`) would otherwise leave a store that every later run fails to open ("table ... already
    exists"). The rename is atomic: ``db`` is either absent or complete.
    """
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    tmp = db.with_name(f".{db.name}.init-{os.getpid()}")
    try:
        SqlAlchemyStore(f"sqlite:///{tmp.resolve()}", artifact_root).engine.dispose()
        _set_wal(tmp)  # WAL is a property of the file: set once, before anyone else opens it
        os.replace(tmp, db)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)
    log.info("created MLflow store %s", db)


def _open_sqlite(db: Path, uri: str, artifact_root: str) -> None:
    """Upgrade an existing store if MLflow needs to; a store that cannot be opened is a clear error."""
    import sqlalchemy.exc
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    try:
        SqlAlchemyStore(uri, artifact_root).engine.dispose()
    except sqlalchemy.exc.OperationalError as e:
        raise InputError(
            db, f"the MLflow store cannot be opened ({str(e.orig).strip() if e.orig else e}); it is probably "
            "half-created (a run killed while creating it, before stores were created atomically) or written "
            "by another MLflow version",
            fix=f"if it holds no runs you need, move it away (mv {db} {db}.broken) and re-run; otherwise "
                "open it with the MLflow version that wrote it and export the runs") from e
    _set_wal(db)


def postgres_uri(user: str, host: str = "127.0.0.1", port: int = 5432, database: str = "mlflow",
                 password: str | None = None) -> str:
    """SQLAlchemy URI of a PostgreSQL MLflow store (driver psycopg2), e.g. for ``MLFLOW_TRACKING_URI``."""
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return f"postgresql+psycopg2://{auth}@{host}:{int(port)}/{quote(database, safe='')}"


def describe(uri: str) -> str:
    """The store URI without its password (for logs and reports)."""
    parts = urlsplit(uri)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return uri
