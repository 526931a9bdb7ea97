# Public identifiers for aides and payments (exposed by the partner API instead of
# internal ids). Added nullable, filled row by row, then made unique.

import uuid

from django.db import migrations, models


def remplir_uuid(apps, schema_editor):
    for nom in ("Aide", "Versement"):
        modele = apps.get_model("financements", nom)
        historique = apps.get_model("financements", f"Historical{nom}")
        for pk in modele.objects.values_list("pk", flat=True).iterator():
            valeur = uuid.uuid4()
            modele.objects.filter(pk=pk).update(uuid=valeur)
            historique.objects.filter(id=pk).update(uuid=valeur)
        # History rows of objects that no longer exist (none expected: PROTECT).
        for pk in historique.objects.filter(uuid__isnull=True).values_list("pk", flat=True):
            historique.objects.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("financements", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="aide",
            name="uuid",
            field=models.UUIDField(editable=False, null=True, verbose_name="identifiant public"),
        ),
        migrations.AddField(
            model_name="historicalaide",
            name="uuid",
            field=models.UUIDField(editable=False, null=True, verbose_name="identifiant public"),
        ),
        migrations.AddField(
            model_name="historicalversement",
            name="uuid",
            field=models.UUIDField(editable=False, null=True, verbose_name="identifiant public"),
        ),
        migrations.AddField(
            model_name="versement",
            name="uuid",
            field=models.UUIDField(editable=False, null=True, verbose_name="identifiant public"),
        ),
        migrations.RunPython(remplir_uuid, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="aide",
            name="uuid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="identifiant public"
            ),
        ),
        migrations.AlterField(
            model_name="historicalaide",
            name="uuid",
            field=models.UUIDField(
                db_index=True, default=uuid.uuid4, editable=False, verbose_name="identifiant public"
            ),
        ),
        migrations.AlterField(
            model_name="historicalversement",
            name="uuid",
            field=models.UUIDField(
                db_index=True, default=uuid.uuid4, editable=False, verbose_name="identifiant public"
            ),
        ),
        migrations.AlterField(
            model_name="versement",
            name="uuid",
            field=models.UUIDField(
                default=uuid.uuid4, editable=False, unique=True, verbose_name="identifiant public"
            ),
        ),
    ]
