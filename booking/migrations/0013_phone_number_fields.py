"""Phone fields become django-phonenumber-field's, and the database holds nothing but E.164
(or blank) in them: 0010 has converted every row."""

import phonenumber_field.modelfields
from django.db import migrations, models


def e164_or_blank(field):
    return models.Q((field, "")) | models.Q((f"{field}__regex", "^\\+[1-9][0-9]{6,14}$"))


class Migration(migrations.Migration):
    dependencies = [("booking", "0012_phones_to_e164")]

    operations = [
        migrations.AlterField(
            model_name="location",
            name="phone",
            field=phonenumber_field.modelfields.PhoneNumberField(
                blank=True, max_length=128, region=None
            ),
        ),
        migrations.AlterField(
            model_name="patient",
            name="phone",
            field=phonenumber_field.modelfields.PhoneNumberField(
                blank=True,
                db_index=True,
                help_text="Stored in E.164: +14045550100.",
                max_length=128,
                region=None,
            ),
        ),
        migrations.AddConstraint(
            model_name="location",
            constraint=models.CheckConstraint(
                condition=e164_or_blank("phone"), name="location_phone_e164"
            ),
        ),
        migrations.AddConstraint(
            model_name="patient",
            constraint=models.CheckConstraint(
                condition=e164_or_blank("phone"), name="patient_phone_e164"
            ),
        ),
    ]
