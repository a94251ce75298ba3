"""The second sign-in step as a gate: a signed-in user who still owes a code reaches only the
two-factor pages, sign-in and sign-out until they give it (accounts.two_factor says who owes
one). Pages, the admin and htmx fragments are all behind it; the API answers for itself
(accounts.two_factor.VerifiedSessionAuthentication), so a token request is never redirected.
"""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.urls import reverse

from accounts import two_factor

OPEN_URL_NAMES = (
    "two_factor_verify",
    "two_factor_setup",
    "login",
    "logout",
)


class SecondFactorMiddleware:
    """Install after django_otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._owes_code(request):
            return self._second_step(request)
        return self.get_response(request)

    def _owes_code(self, request) -> bool:
        path = request.path_info
        if path.startswith(("/api/", "/static/", "/healthz")) or path in self._open_paths():
            return False
        user = request.user
        return (
            user.is_authenticated
            and not two_factor.is_verified(user)
            and two_factor.needs_second_factor(user)
        )

    @staticmethod
    def _open_paths() -> set[str]:
        return {reverse(name) for name in OPEN_URL_NAMES}

    @staticmethod
    def _second_step(request):
        url = reverse(two_factor.second_step_url_name(request.user))
        if request.headers.get("HX-Request") == "true":
            # A fragment cannot show a page: send the whole window to the second step.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect_to_login(request.get_full_path(), login_url=url)
