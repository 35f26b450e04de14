import base64

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sanji.core import crypto


@pytest.fixture(autouse=True)
def _keys(tmp_path, settings):
    settings.KEY_DIR = tmp_path
    crypto.clear_cache()
    yield
    crypto.clear_cache()


def test_round_trip_and_fresh_nonces():
    a = crypto.encrypt("150102199001011237")
    b = crypto.encrypt("150102199001011237")
    assert a != b
    assert crypto.decrypt(a) == crypto.decrypt(b) == "150102199001011237"


def test_tampered_ciphertext_is_refused():
    token = crypto.encrypt("secret")
    prefix, kid, body = token.split(".", 2)
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises((InvalidTag, ValueError)):
        crypto.decrypt(f"{prefix}.{kid}.{flipped}")


def test_key_files_are_private(tmp_path):
    crypto.encrypt("x")
    mode = (tmp_path / "field.key").stat().st_mode & 0o777
    assert mode == 0o600


def test_blind_index_is_keyed_and_purpose_bound():
    one = crypto.blind_index("150102199001011237", purpose="person")
    assert one == crypto.blind_index("150102199001011237", purpose="person")
    assert one != crypto.blind_index("150102199001011237", purpose="applicant")


def test_blind_digest_is_the_raw_form_of_the_blind_index():
    digest = crypto.blind_digest("150102199001011237", purpose="person")
    assert isinstance(digest, bytes)
    assert len(digest) == 32
    assert digest.hex() == crypto.blind_index("150102199001011237", purpose="person")
    assert digest != crypto.blind_digest("150102199001011238", purpose="person")


def test_previous_key_still_decrypts_during_rotation(tmp_path):
    old = crypto.encrypt("value", key="field")
    new = crypto.encrypt("value", key="field-next")
    assert crypto.decrypt(old, key="field-next", previous=("field",)) == "value"
    assert crypto.decrypt(new, key="field-next") == "value"
    with pytest.raises(ValueError, match="no key"):
        crypto.decrypt(old, key="field-next")


def test_concurrent_creators_agree_on_one_complete_key(tmp_path):
    """Processes creating the same key at once all get the one key that is on disk, never a partial one."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        keys = pool.map(_create_key, [str(tmp_path)] * 16)
    on_disk = crypto.secret_key("race", create=False)
    assert set(keys) == {on_disk}
    assert len(on_disk) == 32
    assert [p.name for p in tmp_path.iterdir()] == ["race.key"]  # no temporary files left behind


def _create_key(key_dir: str) -> bytes:
    from django.conf import settings

    settings.KEY_DIR = key_dir
    return crypto.secret_key("race")


def test_key_from_the_environment_is_used_and_no_key_file_is_written(tmp_path, monkeypatch):
    raw = bytes(range(100, 132))
    monkeypatch.setenv("SANJI_KEY_FIELD", base64.b64encode(raw).decode() + "\n")
    crypto.clear_cache()
    token = crypto.encrypt("150102199001011237")
    assert crypto.secret_key("field") == raw
    assert token.split(".")[1] == crypto.key_id(raw)
    assert crypto.decrypt(token) == "150102199001011237"
    # Sealed with exactly that key: AES-GCM with it alone opens the token.
    blob = base64.urlsafe_b64decode(token.split(".", 2)[2])
    kid = crypto.key_id(raw).encode()
    assert AESGCM(raw).decrypt(blob[:12], blob[12:], kid) == b"150102199001011237"
    assert list(tmp_path.iterdir()) == []  # nothing written to KEY_DIR


def test_key_from_the_environment_wins_over_a_key_file(tmp_path, monkeypatch):
    from_file = crypto.secret_key("field")
    assert (tmp_path / "field.key").exists()
    raw = bytes(32)
    monkeypatch.setenv("SANJI_KEY_FIELD", base64.b64encode(raw).decode())
    crypto.clear_cache()
    assert crypto.secret_key("field") == raw != from_file
    assert crypto.encrypt("x").split(".")[1] == crypto.key_id(raw)


def test_a_hyphenated_key_name_reads_its_underscored_variable(tmp_path, monkeypatch):
    raw = bytes(range(32))
    monkeypatch.setenv("SANJI_KEY_FIELD_2025", base64.b64encode(raw).decode())
    assert crypto.secret_key("field-2025") == raw
    assert not (tmp_path / "field-2025.key").exists()


@pytest.mark.parametrize(
    "value",
    [
        base64.b64encode(bytes(16)).decode(),  # too short
        base64.b64encode(bytes(33)).decode(),  # too long
        "not base64 at all!",
    ],
)
def test_an_environment_key_that_is_not_32_bytes_is_refused(tmp_path, monkeypatch, value):
    monkeypatch.setenv("SANJI_KEY_FIELD_NEXT", value)
    crypto.clear_cache()
    with pytest.raises(ValueError, match=r"^SANJI_KEY_FIELD_NEXT must be 32 bytes, base64-encoded$"):
        crypto.secret_key("field-next")
    with pytest.raises(ValueError, match="SANJI_KEY_FIELD_NEXT"):
        crypto.encrypt("x", key="field-next")
    assert list(tmp_path.iterdir()) == []  # no file key made up instead
