"""Tests of sianode.store.uri: masking secrets, parsing URIs and launchpad files."""

from __future__ import annotations

import pytest

from sianode.errors import InputError
from sianode.store.uri import (
    DEFAULT_DATABASE,
    DatabaseTarget,
    database_from_uri,
    mask_secrets,
    resolve_target,
    target_from_launchpad,
    validate_uri,
)


@pytest.mark.parametrize("uri", [
    "mongodb://alice:s3cr3t@db.example:27017/sianode",
    "mongodb+srv://alice:s3cr3t@cluster.example/sianode?retryWrites=true",
])
def test_mask_secrets_hides_uri_password(uri):
    masked = mask_secrets(f"cannot connect to {uri}")
    assert "s3cr3t" not in masked
    assert "alice:****@" in masked


@pytest.mark.parametrize("text", ["password: s3cr3t", "{'password': 's3cr3t'}", 'PASSWORD="s3cr3t"'])
def test_mask_secrets_hides_key_value_password(text):
    assert "s3cr3t" not in mask_secrets(text)
    assert "****" in mask_secrets(text)


def test_mask_secrets_leaves_plain_text():
    text = "mongodb://db.example:27017/sianode nothing secret"
    assert mask_secrets(text) == text


def test_target_masked_uri_and_hosts():
    t = DatabaseTarget(uri="mongodb://bob:pw123@h1:1,h2:2/db")
    assert "pw123" not in t.masked_uri
    assert t.hosts == "h1:1,h2:2"


@pytest.mark.parametrize("uri, name", [
    ("mongodb://h:27017/mydb", "mydb"),
    ("mongodb://h:27017/", DEFAULT_DATABASE),
    ("mongodb://h:27017", DEFAULT_DATABASE),
    ("mongodb://u:p@h/other?authSource=admin", "other"),
])
def test_database_from_uri(uri, name):
    assert database_from_uri(uri) == name


def test_validate_uri_rejects_non_mongodb():
    with pytest.raises(InputError, match="not a MongoDB URI"):
        validate_uri("http://host/db")


def test_validate_uri_masks_password_of_malformed_uri():
    with pytest.raises(InputError) as exc:
        validate_uri("mongodb://alice:s3cr3t@host:notaport/db")
    assert "s3cr3t" not in str(exc.value)


def test_validate_uri_accepts_plain_uri():
    assert validate_uri("mongodb://localhost:27017/x") == "mongodb://localhost:27017/x"


def test_launchpad_file_builds_uri_with_quoted_credentials(tmp_path):
    lp = tmp_path / "my_launchpad.yaml"
    lp.write_text("host: dbhost\nport: 27018\nname: camp\nusername: al ice\npassword: p@ss\nauthsource: admin\n")
    t = target_from_launchpad(lp)
    assert t.database == "camp"
    assert t.uri == "mongodb://al+ice:p%40ss@dbhost:27018/camp?authSource=admin"
    assert "p%40ss" not in t.masked_uri


def test_launchpad_without_host_is_rejected(tmp_path):
    lp = tmp_path / "lp.yaml"
    lp.write_text("name: x\n")
    with pytest.raises(InputError):
        target_from_launchpad(lp)


def test_resolve_target_precedence(monkeypatch):
    monkeypatch.setenv("SIANODE_DB_URI", "mongodb://envhost:1/envdb")
    monkeypatch.delenv("SIANODE_LAUNCHPAD", raising=False)
    assert resolve_target("mongodb://cli:2/clidb").database == "clidb"
    t = resolve_target(None)
    assert t.database == "envdb" and t.source == "$SIANODE_DB_URI"
    monkeypatch.delenv("SIANODE_DB_URI")
    assert resolve_target(None) is None


def test_a_password_in_a_non_mongodb_uri_is_masked_in_the_error():
    """A mistyped scheme must not leak the password into the one-line error."""
    from sianode.errors import InputError
    from sianode.store.uri import validate_uri

    with pytest.raises(InputError) as err:
        validate_uri("http://alice:s3cr3t@host/db")
    assert "s3cr3t" not in str(err.value)
    assert "alice:****@" in str(err.value)
