"""The language switcher, and the patient's stored language taken into the session at sign-in.

The switcher is a POST (CSRF-checked) like Django's own set_language: it sets the language
cookie for anyone, and for a signed-in patient also stores the choice on their record, which
the dispatcher uses for every email and SMS (Patient.language).
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from booking.models import Patient
from skinclinic.middleware import SESSION_LANGUAGE


@require_POST
def switch_language(request: HttpRequest):
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponseBadRequest(_("Choose English or Spanish."))
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    if request.user.is_authenticated and (
        Patient.objects.filter(user=request.user).update(language=language)
    ):
        request.session[SESSION_LANGUAGE] = language
    return response


@receiver(user_logged_in)
def remember_patient_language(sender, request, user, **kwargs):
    """A patient signing in gets their own language from the next page on."""
    if request is None or not hasattr(request, "session"):
        return
    language = Patient.objects.filter(user=user).values_list("language", flat=True).first()
    if language:
        request.session[SESSION_LANGUAGE] = language
