"""The API's session door: a browser session counts only once its second sign-in step is
done (accounts.two_factor), so a stolen password alone reaches no API call either."""

from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication

from accounts import two_factor


class VerifiedSessionAuthentication(SessionAuthentication):
    """DRF's session authentication (CSRF included), except that a session still owing its
    two-step code counts as no sign-in at all. Tokens are checked by their own class."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        if two_factor.needs_second_factor(user) and not two_factor.is_verified(user):
            return None
        return result


class VerifiedSessionScheme(SessionScheme):
    """Documented like DRF's session cookie (drf-spectacular's cookieAuth)."""

    target_class = "api.sessions.VerifiedSessionAuthentication"
