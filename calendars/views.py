"""The feed itself (a secret URL a calendar app polls, no sign-in) and the buttons that make a
new URL or turn it off: a patient's on My details, an aesthetician's on My day."""

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts.roles import aesthetician_required, is_aesthetician, patient_of, patient_required
from calendars import feeds
from calendars.models import CalendarFeed


@require_safe  # calendar apps may ask HEAD first
def feed(request, token):
    found = feeds.feed_for_token(token)
    if found is None:
        raise Http404("No calendar here: the link was changed or turned off.")
    response = HttpResponse(
        feeds.render(found, now=timezone.now()), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="skinclinic.ics"'
    return response


def _change(request, *, owner: dict, back: str):
    """POST make: a new URL (shown once, on the page this returns); POST off: no URL."""
    now = timezone.now()
    if "off" in request.POST:
        existing = CalendarFeed.objects.filter(**owner).first()
        if existing is not None:
            feeds.revoke(now=now, feed=existing, actor=request.user)
        return redirect(back)
    token = feeds.rotate(now=now, actor=request.user, **owner)
    https_url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
    return render(
        request,
        "calendars/feed_made.html",
        {
            "https_url": https_url,
            "webcal_url": "webcal://" + https_url.split("://", 1)[1],
            "back": back,
        },
    )


@require_POST
@patient_required
def patient_feed(request):
    return _change(request, owner={"patient": patient_of(request.user)}, back=reverse("my_details"))


@require_POST
@aesthetician_required
def provider_feed(request):
    if not is_aesthetician(request.user):
        raise Http404("Only an aesthetician has a calendar of their own visits.")
    return _change(request, owner={"provider": request.user.provider}, back=reverse("my_day"))
