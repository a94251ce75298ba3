"""The S3 backend of the photos storage against a real S3-compatible server (moto in server
mode on 127.0.0.1, started here): a photo is stored encrypted (SSE AES256), private, read back
through the storage API and served by the access-checked view; any URL the storage itself
makes is signed and short-lived."""

import io
import shutil
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import time_machine
from django.core.files.storage import storages
from PIL import Image

from photos import services as photos
from photos.models import photo_storage
from tests.helpers import NEW_YORK, local_server, sign_in
from tests.photo_helpers import add_photo
from tests.test_chart import book_visit

BUCKET = "skinclinic-photos-test"
CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}


def _moto_server() -> str:
    local = Path(sys.executable).with_name("moto_server")
    found = str(local) if local.exists() else shutil.which("moto_server")
    if not found:
        pytest.skip("moto_server is not installed")
    return found


@pytest.fixture(scope="module")
def s3_endpoint():
    program = _moto_server()
    with local_server(
        "moto_server", lambda port: [program, "-H", "127.0.0.1", "-p", str(port)]
    ) as url:
        yield url


@pytest.fixture
def s3(settings, s3_endpoint):
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "photos": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **settings.STORAGES["photos"].get("OPTIONS", {}),
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "default_acl": "private",
                "object_parameters": {"ServerSideEncryption": "AES256"},
                "file_overwrite": False,
                "querystring_auth": True,
                "querystring_expire": 300,
                "signature_version": "s3v4",
                **CREDENTIALS,
            },
        },
    }
    yield client
    storages._storages.pop("photos", None)


@pytest.fixture(autouse=True)
def sessions_outlive_time_travel(settings):
    settings.SESSION_COOKIE_AGE = 60 * 60 * 24 * 365 * 20


def test_a_photo_goes_to_s3_encrypted_and_private_and_comes_back(s3, clinic, patient, client):
    start = datetime(2027, 3, 2, 10, 0, tzinfo=NEW_YORK)
    visit = book_visit(clinic, patient, start)
    assert photo_storage().__class__.__name__ == "S3Storage"

    photo = add_photo(visit, now=start + timedelta(hours=1))

    head = s3.head_object(Bucket=BUCKET, Key=photo.original.name)
    assert head["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=BUCKET, Key=photo.thumbnail.name)["ServerSideEncryption"]
    grants = s3.get_object_acl(Bucket=BUCKET, Key=photo.original.name)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # the owner only
    assert all("URI" not in g["Grantee"] for g in grants)  # no AllUsers / AuthenticatedUsers
    with photo_storage().open(photo.original.name, "rb") as stored:
        assert Image.open(io.BytesIO(stored.read())).size == (64, 48)
    url = urlparse(photo_storage().url(photo.original.name))
    assert parse_qs(url.query)["X-Amz-Expires"] == ["300"]

    user = clinic["provider"].user
    sign_in(client, user)
    with time_machine.travel(date(2027, 3, 2), tick=True):
        response = client.get(photos.link(photo, "original", user))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
