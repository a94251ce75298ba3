"""Money for the owner's report (desk/reports.py): per location and aesthetician over a
period, in each location's own currency. Three queries, whatever the size of the clinic.

revenue      taken (online, at the desk) minus refunded, by when it was taken
deposits     deposits taken, less their refunds
fees         late-cancel and no-show fees charged; `fees_waived` counts missed or late visits
             whose terms had a fee that was never charged
refunds      given back in the period
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum

from booking.models import Appointment, Location
from payments.models import TAKEN_STATES, Payment, Refund
from treatments.money import Money


@dataclass
class MoneyRow:
    location: str
    aesthetician: str
    currency: str
    taken: Decimal = Decimal(0)
    deposits: Decimal = Decimal(0)
    fees_charged: Decimal = Decimal(0)
    fees_waived: int = 0
    refunds: Decimal = Decimal(0)

    @property
    def revenue(self) -> Money:
        return Money(self.taken - self.refunds, self.currency)

    def amount(self, name: str) -> Money:
        return Money(getattr(self, name), self.currency)


def _within(locations, first: date, last: date, where: str, when: str) -> Q:
    """Rows whose `when` falls on [first, last] on their location's own calendar."""
    within = Q(pk__in=[])
    for location in locations:
        begin = datetime.combine(first, time(), location.zone)
        end = datetime.combine(last + timedelta(days=1), time(), location.zone)
        within |= Q(**{where: location, f"{when}__gte": begin, f"{when}__lt": end})
    return within


def money_rows(
    *, locations: list[Location], first: date, last: date, providers: dict[int, str]
) -> list[MoneyRow]:
    """The money rows for [first, last] (local days) at `locations`."""
    visits_in_period = _within(locations, first, last, "location", "start")
    taken_in_period = _within(locations, first, last, "location", "succeeded_at")
    refunded_in_period = _within(locations, first, last, "payment__location", "created_at")
    names = {loc.pk: (loc.name, loc.currency) for loc in locations}
    rows: dict[tuple[int, int | None], MoneyRow] = {}

    def row(location_id: int, provider_id: int | None) -> MoneyRow:
        key = (location_id, provider_id)
        if key not in rows:
            name, currency = names[location_id]
            who = providers.get(provider_id, "No aesthetician") if provider_id else "No visit"
            rows[key] = MoneyRow(location=name, aesthetician=who, currency=currency)
        return rows[key]

    taken = (  # 1 query
        Payment.objects.filter(taken_in_period, state__in=TAKEN_STATES, location__in=locations)
        .values("location_id", "appointment__provider_id")
        .annotate(
            taken=Sum("amount"),
            deposits=Sum("amount", filter=Q(kind=Payment.Kind.DEPOSIT)),
            deposits_back=Sum("refunded", filter=Q(kind=Payment.Kind.DEPOSIT)),
            fees=Sum("amount", filter=~Q(fee="")),
        )
        .order_by()
    )
    for t in taken:
        r = row(t["location_id"], t["appointment__provider_id"])
        r.taken += t["taken"] or 0
        r.deposits += (t["deposits"] or 0) - (t["deposits_back"] or 0)
        r.fees_charged += t["fees"] or 0
    refunds = (  # 1 query
        Refund.objects.filter(refunded_in_period, payment__location__in=locations)
        .values("payment__location_id", "payment__appointment__provider_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for f in refunds:
        row(f["payment__location_id"], f["payment__appointment__provider_id"]).refunds += f["total"]
    fee_charged = (
        Payment.objects.filter(appointment=OuterRef("pk"))
        .exclude(fee="")
        .exclude(state__in=[Payment.State.FAILED, Payment.State.CANCELLED])
    )
    waived = (  # 1 query
        Appointment.objects.filter(visits_in_period, location__in=locations)
        .filter(
            Q(status=Appointment.Status.NO_SHOW, terms__no_show_fee__gt=0)
            | Q(
                status=Appointment.Status.CANCELLED,
                late_cancellation=True,
                terms__late_cancel_fee__gt=0,
            )
        )
        .exclude(Exists(fee_charged))
        .values("location_id", "provider_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for w in waived:
        row(w["location_id"], w["provider_id"]).fees_waived += w["n"]
    return sorted(rows.values(), key=lambda r: (r.location, r.aesthetician))
