"""Each location's country: a phone number typed there without its country code is read as
this country's (booking/phones.py). Existing locations get it from their time zone in 0010."""

from django.db import migrations, models

import booking.models


class Migration(migrations.Migration):
    dependencies = [("booking", "0010_patient_search_across_fields")]

    operations = [
        migrations.AddField(
            model_name="location",
            name="country",
            field=models.CharField(
                default="US",
                help_text="Two-letter country code: phone numbers typed without +country code "
                "are read as this country's (the clinic's own and its patients').",
                max_length=2,
                validators=[booking.models.validate_region],
            ),
        ),
    ]
