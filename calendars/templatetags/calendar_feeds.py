"""{% calendar_feed_panel %}: the subscription box on My details and My day."""

from django import template

from accounts.roles import is_aesthetician, patient_of
from calendars.models import CalendarFeed

register = template.Library()


@register.inclusion_tag("calendars/_feed_panel.html", takes_context=True)
def calendar_feed_panel(context):
    user = context["request"].user
    patient = patient_of(user)
    if patient is not None:
        owner, action = {"patient": patient}, "patient_calendar_feed"
    elif is_aesthetician(user):
        owner, action = {"provider": user.provider}, "provider_calendar_feed"
    else:
        return {"show": False}
    return {
        "show": True,
        "feed": CalendarFeed.objects.filter(**owner).first(),
        "action": action,
        "csrf_token": context.get("csrf_token"),
        "staff": patient is None,
    }
