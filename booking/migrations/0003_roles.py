"""The staff roles: "Front desk" runs the calendar, "Aesthetician" sees their own day."""

from django.db import migrations

ROLES = ("Front desk", "Aesthetician")


def add_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0002_no_double_booking"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(add_roles, remove_roles)]
