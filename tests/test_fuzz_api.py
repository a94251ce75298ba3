"""The JSON API fuzzed from its own OpenAPI schema (/api/v1/schema/) with schemathesis.

Each operation gets a bounded number of generated requests, valid and invalid, against the
WSGI app in-process, once anonymously and once as the front desk (who may do the most);
every answer must be a documented status with a body that matches the schema.
"""

from datetime import datetime

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from booking import services
from tests import factories
from tests.helpers import NEW_YORK

EXAMPLES_PER_OPERATION = 15
pytestmark = pytest.mark.usefixtures("isolated_cache")  # throttle counts stay in this test


@pytest.fixture(autouse=True)
def requests_keep_the_test_connection(db):
    """As Django's test client does: a request must not close the test's database connection."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def desk_token(clinic, front_desk, patient):
    # Something to find, move and cancel: a visit on Tuesday 2027-03-02 at 10:00.
    services.book_appointment(
        patient=patient,
        treatment=clinic["treatment"],
        location=clinic["location"],
        start=datetime(2027, 3, 2, 10, tzinfo=NEW_YORK),
        now=datetime(2027, 3, 1, 8, tzinfo=NEW_YORK),
    )
    factories.TreatmentFactory(name="Consultation", duration_minutes=30, numbing_minutes=0)
    return AuthToken.objects.create(user=front_desk)[1]


# Reading the schema touches no database, so it can happen when the tests are collected.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())
bounded = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


# No server error, and every answer is one the schema documents: its status code, its
# content type and its body.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@bounded
def test_the_api_answers_anonymous_callers_as_documented(case, desk_token):
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@bounded
def test_the_api_answers_the_front_desk_as_documented(case, desk_token):
    case.call_and_validate(headers={"Authorization": f"Token {desk_token}"}, checks=CHECKS)
