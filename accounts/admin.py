"""The admin behind two-step sign-in, and the audited reset of someone's two-step sign-in.

The admin site needs a verified session (accounts.two_factor): its own sign-in page takes the
password, and the code is asked on /accounts/two-factor/verify/ like everywhere else. django-otp's
own device admins are removed: they would show every staff member's secret to any admin user,
and delete devices without an audit entry; the reset action below is the one way.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor


class TwoFactorAdminSite(admin.AdminSite):
    """The default admin site, requiring a session verified with a code whenever the account
    owes one (django-otp's OTPAdminSite asks the code on its own page; we keep one flow)."""

    def has_permission(self, request):
        user = request.user
        owes_code = two_factor.needs_second_factor(user) and not two_factor.is_verified(user)
        return super().has_permission(request) and not owes_code

    def login(self, request, extra_context=None):
        user = request.user
        owes_code = two_factor.needs_second_factor(user) and not two_factor.is_verified(user)
        if user.is_authenticated and owes_code:
            step = reverse(two_factor.second_step_url_name(user))
            return redirect_to_login(
                request.GET.get("next", reverse("admin:index")), login_url=step
            )
        return super().login(request, extra_context)


admin.site.__class__ = TwoFactorAdminSite

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.action(description="Reset two-step sign-in (lost phone)", permissions=["change"])
def reset_two_factor(modeladmin, request, queryset):
    now = timezone.now()
    for user in queryset:
        two_factor.reset_devices(
            user, actor=request.user, now=now, reason=f"Reset in the admin: {user.get_username()}"
        )
    modeladmin.message_user(
        request,
        f"Two-step sign-in reset for {len(queryset)} account(s). Staff set up a new "
        "authenticator app at their next sign-in.",
        messages.SUCCESS,
    )


admin.site.unregister(User)


@admin.register(User)
class ClinicUserAdmin(UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "two_factor_on")
    actions = [reset_two_factor]

    def get_queryset(self, request):
        enrolled = TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_authenticator=Exists(enrolled))

    @admin.display(boolean=True, description="Two-step sign-in", ordering="has_authenticator")
    def two_factor_on(self, user) -> bool:
        return user.has_authenticator
