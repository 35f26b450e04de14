import pytest
from cryptography.exceptions import InvalidTag

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
