"""Database URIs: resolve which database to use and keep passwords out of every message.

Precedence (first found wins): an explicit ``--db`` value, ``$SIANODE_DB_URI``,
``$SIANODE_LAUNCHPAD`` (a FireWorks ``my_launchpad.yaml``), then the embedded
SecantusDB server under ``$SIANODE_HOME``. A ``--db`` value may itself be a path to a
``my_launchpad.yaml``.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote_plus, urlsplit

from sianode.errors import InputError

DEFAULT_DATABASE = "sianode"

#: ``user:password@`` after any URI scheme (a mistyped ``http://user:pw@host`` is masked too)
_URI_CREDENTIALS = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^:/@\s]+):([^@\s]*)@")
_KEY_VALUE_SECRET = re.compile(r"(?i)(password['\"]?\s*[:=]\s*['\"]?)([^'\"\s,}]+)")


def mask_secrets(text: str) -> str:
    """Replace passwords in URIs (any scheme) and ``password: ...`` pairs with ``****``."""
    text = _URI_CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}:****@", text)
    return _KEY_VALUE_SECRET.sub(lambda m: f"{m.group(1)}****", text)


class MaskingFormatter(logging.Formatter):
    """A log formatter that masks secrets in every record it formats."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


@dataclass(frozen=True)
class DatabaseTarget:
    """Where the results live.

    Attributes
    ----------
    uri
        MongoDB connection string (may hold a password: never log it unmasked).
    database
        Database name inside the server.
    embedded
        True when sianode manages the server itself (SecantusDB under ``home``).
    source
        Human-readable origin: ``--db``, ``$SIANODE_DB_URI``, a launchpad file, ``embedded``.
    """

    uri: str
    database: str = DEFAULT_DATABASE
    embedded: bool = False
    source: str = "--db"

    @property
    def masked_uri(self) -> str:
        return mask_secrets(self.uri)

    @property
    def hosts(self) -> str:
        """The ``host:port`` list of the URI, without credentials."""
        netloc = urlsplit(self.uri).netloc
        return netloc.rsplit("@", 1)[-1] or "?"


def sianode_home() -> Path:
    """Directory of sianode's local state: ``$SIANODE_HOME`` or ``./sianode-data``."""
    return Path(os.environ.get("SIANODE_HOME", "sianode-data")).expanduser().resolve()


def validate_uri(uri: str) -> str:
    """Check that ``uri`` parses as a MongoDB URI; raise ``InputError`` otherwise."""
    from pymongo.errors import ConfigurationError, InvalidURI
    from pymongo.uri_parser import parse_uri

    masked = mask_secrets(uri)
    if not uri.startswith(("mongodb://", "mongodb+srv://")):
        raise InputError(
            f"database URI {masked!r} is not a MongoDB URI: expected mongodb://[user:password@]host[:port]/[database] "
            "or a path to a FireWorks my_launchpad.yaml"
        )
    try:
        parse_uri(uri, validate=True, warn=False, connect_timeout=5)
    except (InvalidURI, ConfigurationError, ValueError) as exc:
        raise InputError(f"malformed database URI {masked!r}: {mask_secrets(str(exc))}") from None
    return uri


def database_from_uri(uri: str) -> str:
    path = urlsplit(uri).path.strip("/")
    return path or DEFAULT_DATABASE


def target_from_launchpad(path: str | Path) -> DatabaseTarget:
    """Read a FireWorks ``my_launchpad.yaml`` (``host``/``port``/``name``/``username``/
    ``password``, or ``host`` as a URI with ``uri_mode: true``)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read launchpad file {str(path)!r}: {mask_secrets(str(exc))}") from None
    if not isinstance(data, dict) or "host" not in data:
        raise InputError(f"launchpad file {str(path)!r} has no 'host' key: expected a FireWorks my_launchpad.yaml")
    host = str(data["host"])
    name = str(data.get("name") or DEFAULT_DATABASE)
    if data.get("uri_mode") or host.startswith("mongodb"):
        uri = host
        name = database_from_uri(uri) if urlsplit(uri).path.strip("/") else name
    else:
        port = int(data.get("port") or 27017)
        user, password = data.get("username"), data.get("password")
        cred = f"{quote_plus(str(user))}:{quote_plus(str(password or ''))}@" if user else ""
        auth = f"?authSource={data['authsource']}" if data.get("authsource") else ""
        uri = f"mongodb://{cred}{host}:{port}/{name}{auth}"
    return DatabaseTarget(uri=validate_uri(uri), database=name, source=f"launchpad file {path}")


def resolve_target(db: str | None = None) -> DatabaseTarget | None:
    """Return the configured database, or None when the embedded server should be used."""
    if db:
        if db.startswith(("mongodb://", "mongodb+srv://")):
            return DatabaseTarget(uri=validate_uri(db), database=database_from_uri(db), source="--db")
        if Path(db).suffix in (".yaml", ".yml") or Path(db).is_file():
            if not Path(db).is_file():
                raise InputError(f"launchpad file {db!r} does not exist")
            return target_from_launchpad(db)
        validate_uri(db)  # raises with a clear message
    env_uri = os.environ.get("SIANODE_DB_URI")
    if env_uri:
        return DatabaseTarget(uri=validate_uri(env_uri), database=database_from_uri(env_uri), source="$SIANODE_DB_URI")
    env_lp = os.environ.get("SIANODE_LAUNCHPAD")
    if env_lp:
        return target_from_launchpad(env_lp)
    return None
