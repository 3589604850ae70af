# main.py: fixed. Logging in no longer freezes the server.
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
def login():  # a plain def: FastAPI runs it on a worker thread
    digest = hash_password("correct horse battery staple")  # holds a worker thread, not the loop
    return {"ok": True, "digest": digest[:12]}
