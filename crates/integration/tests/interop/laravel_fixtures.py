"""Laravel Passport fixtures from an implementation independent of the Rust code under test.

Written from the formats, with Python's `cryptography` and `bcrypt`:

- refresh tokens as league/oauth2-server's CryptTrait encrypts them under Passport:
  defuse/php-encryption's Crypto::encryptWithPassword (version 2: header DE F5 02 00,
  32-byte salt, 16-byte IV, AES-256-CTR, HMAC-SHA256 over all of it; keys by
  PBKDF2-HMAC-SHA256(SHA256(password), salt, 100000) then HKDF-SHA256 with the info
  strings), hex-encoded; the password is the raw APP_KEY (`base64:` decoded);
- bcrypt hashes as Laravel's Hash::make writes them ("$2y$", cost 10 by default) for
  client secrets and user passwords.

Cross-checked once (by hand, nothing of PHP's committed) with Debian's PHP 8.2 and
defuse/php-encryption v2.4.0: Crypto::decryptWithPassword reads these tokens and
password_verify accepts these hashes; the Rust side decrypts PHP's encryptWithPassword
output and verifies password_hash's.

Reads one JSON request from the FIXTURE_REQUEST variable:
  {"app_key": "base64:...", "refresh_tokens": [<payload object>, ...],
   "bcrypt": [{"password": "...", "cost": 10}, ...]}
and prints one JSON line: {"refresh_tokens": [hex, ...], "bcrypt": [hash, ...]}.
"""

import base64
import hashlib
import hmac
import json
import os
import sys

import bcrypt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

VERSION = b"\xde\xf5\x02\x00"


def app_key_bytes(app_key: str) -> bytes:
    if app_key.startswith("base64:"):
        return base64.b64decode(app_key[len("base64:"):])
    return app_key.encode()


def encrypt_with_password(plaintext: bytes, password: bytes) -> str:
    salt, iv = os.urandom(32), os.urandom(16)
    prehash = hashlib.sha256(password).digest()
    prekey = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=100000).derive(prehash)

    def hkdf(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(prekey)

    authentication_key = hkdf(b"DefusePHP|V2|KeyForAuthentication")
    encryption_key = hkdf(b"DefusePHP|V2|KeyForEncryption")
    encryptor = Cipher(algorithms.AES(encryption_key), modes.CTR(iv)).encryptor()
    message = VERSION + salt + iv + encryptor.update(plaintext) + encryptor.finalize()
    tag = hmac.new(authentication_key, message, hashlib.sha256).digest()
    return (message + tag).hex()


def league_payload(payload: dict) -> bytes:
    # PHP's json_encode: no spaces, "/" escaped.
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


def laravel_bcrypt(password: str, cost: int) -> str:
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=cost)).decode()
    # PHP's password_hash(PASSWORD_BCRYPT) writes "$2y$": the same algorithm as "$2b$".
    return "$2y$" + hashed[4:]


def main() -> None:
    request = json.loads(os.environ["FIXTURE_REQUEST"])
    password = app_key_bytes(request.get("app_key", "base64:"))
    tokens = [encrypt_with_password(league_payload(p), password) for p in request.get("refresh_tokens", [])]
    hashes_ = [laravel_bcrypt(h["password"], h.get("cost", 10)) for h in request.get("bcrypt", [])]
    for hashed, wanted in zip(hashes_, request.get("bcrypt", [])):
        assert bcrypt.checkpw(wanted["password"].encode(), ("$2b$" + hashed[4:]).encode())
    print(json.dumps({"refresh_tokens": tokens, "bcrypt": hashes_}))


if __name__ == "__main__":
    sys.exit(main())
