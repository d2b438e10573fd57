"""Password hashing (argon2id) and the password policy (≥ 10 characters, 3 of 4 character classes)."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
MIN_LENGTH = 10
# 等保 3级: passwords are changed periodically; older ones force a change at the next request.
MAX_AGE_DAYS = 90


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A hash of a random password: verifying against it costs the same as for a real user, so response time
# does not reveal whether a username exists.
DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def policy_problems(password: str, username: str = "") -> list[str]:
    """Chinese reasons why the password is not acceptable (empty = acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码长度至少 {MIN_LENGTH} 位")
    classes = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < 3:
        problems.append("密码须包含大写字母、小写字母、数字、特殊字符中的至少三类")
    if username and username.lower() in password.lower():
        problems.append("密码不得包含用户名")
    return problems


def random_password(length: int = 16) -> str:
    """A random password that satisfies the policy."""
    alphabet = string.ascii_letters + string.digits + "!@#%^*-_+="
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        if not policy_problems(pw):
            return pw
