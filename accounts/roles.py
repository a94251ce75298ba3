"""Who may do what: the clinic's roles as groups, and view decorators that enforce them.

Front desk (or a Django superuser) sees everything; an aesthetician sees their own schedule
and the patients on it; a patient sees only their own records.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from booking.models import Patient
from booking.services.audit import signed_in_or_none

FRONT_DESK = "Front desk"
AESTHETICIAN = "Aesthetician"


def _groups(user) -> set[str]:
    if signed_in_or_none(user) is None:
        return set()
    cached = getattr(user, "_clinic_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._clinic_groups = cached
    return cached


def is_front_desk(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or FRONT_DESK in _groups(user)


def is_aesthetician(user) -> bool:
    return AESTHETICIAN in _groups(user) and hasattr(user, "provider")


def is_staff_member(user) -> bool:
    return is_front_desk(user) or is_aesthetician(user)


STAFF_GROUPS = (FRONT_DESK, AESTHETICIAN)


def has_staff_role(user) -> bool:
    """Anyone who may read health answers or charts, or use the admin: a staff group (with or
    without a provider record), is_staff or a superuser. Two-factor sign-in is asked of them."""
    if signed_in_or_none(user) is None:
        return False
    return bool(user.is_staff or user.is_superuser) or bool(_groups(user) & set(STAFF_GROUPS))


class NotYours(Http404):
    """A record that is not the signed-in user's: answered as "not found" (never saying it
    exists), with the friendly 404 page even while DEBUG is on (skinclinic.errors)."""


def own_or_404(queryset, **lookup):
    """The one row of `queryset` (already narrowed to the user's own records) matching
    `lookup`, or NotYours."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        raise NotYours("No such page for your account.") from None


def patient_of(user):
    """The user's Patient record, or None."""
    if signed_in_or_none(user) is None:
        return None
    return getattr(user, "patient", None)


# The new patient this browser just booked for: their account waits for its emailed link, and
# until then this browser may see that booking ("You're booked") and pay for it.
GUEST_PATIENT = "booked_as_guest"


def guest_patient(request):
    """The Patient this browser just booked for (GUEST_PATIENT in its session), or None."""
    return Patient.objects.filter(pk=request.session.get(GUEST_PATIENT) or 0).first()


def _role_required(check):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied("Your account cannot open this page.")
            return view(request, *args, **kwargs)

        # Kept on the view (functools.wraps copies it through outer decorators), so that
        # accounts.landing can tell whether a `next` page is one the user may open.
        wrapped.role_check = check  # type: ignore[attr-defined]
        return wrapped

    return decorator


front_desk_required = _role_required(is_front_desk)
staff_required = _role_required(is_staff_member)
aesthetician_required = _role_required(lambda user: is_aesthetician(user) or is_front_desk(user))
patient_required = _role_required(lambda user: patient_of(user) is not None)


# What the front desk may view, add and change in the Django admin.
FRONT_DESK_ADMIN_MODELS = ("appointment", "patient", "screeninganswer", "treatmentplan", "timeoff")


def grant_role_permissions(**kwargs) -> None:
    """post_migrate: give the roles their admin permissions on every install, not only on
    the demo clinic (permissions only exist once migrate has created them)."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=FRONT_DESK)
    Group.objects.get_or_create(name=AESTHETICIAN)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="booking",
            content_type__model__in=FRONT_DESK_ADMIN_MODELS,
            codename__regex=r"^(view|add|change)_",
        )
    )
