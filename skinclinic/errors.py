"""The friendly error pages (templates/403.html, 404.html, 500.html): the site's layout with its
navigation and a way back, never a stack trace or a list of URLs.

403 and 404 render with the request, so they name the page the signed-in user works from
(accounts.landing). 500 renders with no request context at all: whatever broke (the database,
a context processor, the session) cannot break the error page too.

A record that is not the user's (accounts.roles.NotYours, e.g. a patient asking for someone
else's visit) is answered by the friendly 404 even with DEBUG on: Django's debug 404 would list
every URL of the site.
"""

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.template import loader

from accounts.landing import landing_url
from accounts.roles import NotYours


def _context(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    return {"signed_in": signed_in, "landing": landing_url(user) if signed_in else ""}


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    body = loader.render_to_string("403.html", _context(request), request)
    return HttpResponseForbidden(body)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    body = loader.render_to_string("404.html", _context(request), request)
    return HttpResponseNotFound(body)


def server_error(request: HttpRequest) -> HttpResponse:
    body = loader.get_template("500.html").render()  # no request: nothing more can fail
    return HttpResponseServerError(body)


class PrivateNotFoundMiddleware:
    """Answer NotYours with the friendly 404 whatever DEBUG says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotYours):
            return page_not_found(request, exception)
        return None
