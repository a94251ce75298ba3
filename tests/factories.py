"""Factories for the clinic's records. Defaults make a bookable microneedling at Buckhead."""

from datetime import time
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User

from booking.models import Location, Patient, Provider, Room, TimeOff, WorkingHours
from treatments.models import Protocol, Treatment


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or ():
            self.groups.add(Group.objects.get_or_create(name=name)[0])


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("slug",)

    name = "Buckhead"
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    time_zone = "America/New_York"
    phone = "+1 404 555 0100"
    cancellation_notice_hours = 48


class TreatmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Treatment
        django_get_or_create = ("slug",)

    name = "Microneedling"
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    duration_minutes = 60
    numbing_minutes = 30
    cleanup_minutes = 15
    price = Decimal("350.00")


class ProtocolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Protocol
        django_get_or_create = ("treatment",)

    treatment = factory.SubFactory(TreatmentFactory)
    min_sessions = 3
    default_sessions = 3
    max_sessions = 5
    interval_min_days = 28
    interval_max_days = 42
    maintenance_offsets_months = [6, 12]
    needle_depth_min_mm = Decimal("0.5")
    needle_depth_max_mm = Decimal("2.5")


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room
        skip_postgeneration_save = True

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Room {n + 1}")

    @factory.post_generation
    def treatments(self, create, extracted, **kwargs):
        if extracted:
            self.treatments.add(*extracted)


class ProviderFactory(factory.django.DjangoModelFactory):
    """An aesthetician working 09:00-17:00, Monday to Friday, at the given locations."""

    class Meta:
        model = Provider
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, groups=["Aesthetician"])
    display_name = factory.LazyAttribute(lambda p: f"{p.user.first_name} {p.user.last_name}")

    @factory.post_generation
    def locations(self, create, extracted, **kwargs):
        if extracted:
            self.locations.add(*extracted)

    @factory.post_generation
    def treatments(self, create, extracted, **kwargs):
        if extracted:
            self.treatments.add(*extracted)

    @factory.post_generation
    def weekdays(self, create, extracted, **kwargs):
        days = range(5) if extracted is None else extracted
        for location in self.locations.all():
            WorkingHours.objects.bulk_create(
                WorkingHours(
                    provider=self,
                    location=location,
                    weekday=day,
                    start_time=time(9),
                    end_time=time(17),
                )
                for day in days
            )


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    provider = factory.SubFactory(ProviderFactory)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    user = factory.SubFactory(UserFactory)
    first_name = factory.LazyAttribute(lambda p: p.user.first_name if p.user else "Pat")
    last_name = factory.LazyAttribute(lambda p: p.user.last_name if p.user else "Ient")
    email = factory.LazyAttribute(lambda p: p.user.email if p.user else "")
    phone = "+1 404 555 0199"
