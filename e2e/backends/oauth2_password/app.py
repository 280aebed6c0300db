"""FastAPI's documented OAuth2 password flow with JWT bearer tokens (the tutorial "OAuth2
with Password (and hashing), Bearer with JWT tokens"), as a token server for the client's
`protocol: "oauth2-password"` recipe (docs/backends.md, e2e/oauth2-password.test.mjs).

As in the tutorial: `POST /token` takes the form `username` + `password` and answers
`{access_token, token_type: "bearer"}`, a wrong password is 401 "Incorrect username or
password", `GET /users/me/` reads the bearer. There is no refresh token. The one user and
the key come from the environment the test sets; CORS admits the test page's origin.
"""

import os
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from jwt.exceptions import InvalidTokenError
from pydantic import BaseModel

SECRET_KEY = os.environ["OAUTH2_SECRET_KEY"]
ALGORITHM = "HS256"
ACCESS_TOKEN_EXPIRE = timedelta(seconds=int(os.environ.get("OAUTH2_ACCESS_SECONDS", "1800")))

password_hasher = PasswordHasher()
users_db = {
    os.environ["OAUTH2_USERNAME"]: {
        "username": os.environ["OAUTH2_USERNAME"],
        "full_name": "John Doe",
        "email": "johndoe@example.com",
        "hashed_password": password_hasher.hash(os.environ["OAUTH2_PASSWORD"]),
        "disabled": False,
    }
}


class Token(BaseModel):
    access_token: str
    token_type: str


class User(BaseModel):
    username: str
    email: str | None = None
    full_name: str | None = None
    disabled: bool | None = None


class UserInDB(User):
    hashed_password: str


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origin_regex=r"http://127\.0\.0\.1(:\d+)?",
    allow_methods=["*"],
    allow_headers=["*"],
)


def authenticate_user(username: str, password: str) -> UserInDB | None:
    record = users_db.get(username)
    if record is None:
        return None
    user = UserInDB(**record)
    try:
        password_hasher.verify(user.hashed_password, password)
    except VerificationError:
        return None
    return user


async def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]) -> User:
    credentials_exception = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=[ALGORITHM])
    except InvalidTokenError as err:
        raise credentials_exception from err
    record = users_db.get(payload.get("sub", ""))
    if record is None:
        raise credentials_exception
    return User(**record)


@app.post("/token")
async def login_for_access_token(form_data: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    user = authenticate_user(form_data.username, form_data.password)
    if not user:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expire = datetime.now(UTC) + ACCESS_TOKEN_EXPIRE
    access_token = jwt.encode({"sub": user.username, "exp": expire}, SECRET_KEY, algorithm=ALGORITHM)
    return Token(access_token=access_token, token_type="bearer")  # noqa: S106 (the OAuth 2 token type, not a secret)


@app.get("/users/me/")
async def read_users_me(current_user: Annotated[User, Depends(get_current_user)]) -> User:
    return current_user
