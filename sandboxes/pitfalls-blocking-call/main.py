# main.py: BROKEN on purpose. Logging in freezes the whole server.
import hashlib
import os

from fastapi import FastAPI

app = FastAPI()
SALT = os.urandom(16)


def hash_password(password: str) -> str:
    # A deliberately slow key derivation (as password hashing must be): about 0.1 s of CPU.
    return hashlib.pbkdf2_hmac("sha256", password.encode(), SALT, 300_000).hex()


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.post("/login")
async def login():
    digest = hash_password("correct horse battery staple")  # BUG: blocks the event loop
    return {"ok": True, "digest": digest[:12]}
