"""Usernames unique whatever their case: a unique index on LOWER(username) (SQLite and
PostgreSQL both index the expression).

Accounts that already differ only in case cannot be merged or renamed here (which one is
whose is for the operator to say): the migration stops and names them, before any change."""

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower

import gongwen.accounts.models


def refuse_case_duplicates(apps, schema_editor):
    # The database's LOWER(), as the index will use it (SQLite lowers ASCII letters only).
    users = apps.get_model("accounts", "User").objects.using(schema_editor.connection.alias)
    lowered = users.annotate(lowered=Lower("username"))
    clashing = list(lowered.order_by().values("lowered").annotate(n=Count("id"))
                    .filter(n__gt=1).values_list("lowered", flat=True))
    if clashing:
        listed = "; ".join(
            ", ".join(lowered.filter(lowered=name).order_by("username")
                      .values_list("username", flat=True))
            for name in sorted(clashing))
        raise RuntimeError(
            "Usernames that differ only in case: rename all but one of each (Django admin, "
            "/admin/accounts/user/), then migrate again to make usernames case-insensitive: "
            f"{listed}")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(refuse_case_duplicates, migrations.RunPython.noop),
        migrations.AlterModelManagers(
            name="user",
            managers=[
                ("objects", gongwen.accounts.models.UserManager()),
            ],
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("username"),
                name="accounts_user_username_ci_uniq",
                violation_error_message="用户名已被使用（用户名不区分大小写）。"),
        ),
    ]
