"""The owner sets payment policies here; the ledger is read-only (it changes only through
payments.services, which audit every money action)."""

from django.contrib import admin

from payments.models import BookingTerms, Payment, PaymentEvent, PaymentPolicy, Refund


@admin.register(PaymentPolicy)
class PaymentPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "location",
        "treatment",
        "deposit",
        "deposit_value",
        "card_on_file_required",
        "late_cancel_fee",
        "no_show_fee",
        "refund_rule",
    ]
    list_filter = ["location"]
    fieldsets = [
        (None, {"fields": ["location", "treatment"]}),
        ("Deposit", {"fields": ["deposit", "deposit_value", "card_on_file_required"]}),
        (
            "Fees",
            {
                "fields": [
                    "late_cancel_fee",
                    "late_cancel_fee_value",
                    "no_show_fee",
                    "no_show_fee_value",
                    "prepaid_session_covers_fee",
                ]
            },
        ),
        ("Refunds", {"fields": ["refund_rule"]}),
    ]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "patient",
        "location",
        "kind",
        "method",
        "amount",
        "currency",
        "refunded",
        "state",
    ]
    list_filter = ["location", "state", "kind", "method"]
    list_select_related = ["patient", "location"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "payment", "amount", "currency", "reason", "by"]
    list_select_related = ["payment", "by"]


@admin.register(BookingTerms)
class BookingTermsAdmin(ReadOnlyAdmin):
    list_display = ["appointment", "plan", "deposit", "late_cancel_fee", "no_show_fee", "currency"]


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "event_id"]
