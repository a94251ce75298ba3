"""The outbox models (Notification, ReminderPolicy) moved to the notifications app.

State only: the tables keep their names and every row (notifications/migrations/0001 takes
the models over with db_table set to the same tables)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0006_keep_audit_trail"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="reminderpolicy", name="location"),
                migrations.DeleteModel(name="Notification"),
                migrations.DeleteModel(name="ReminderPolicy"),
            ],
            database_operations=[],
        ),
    ]
