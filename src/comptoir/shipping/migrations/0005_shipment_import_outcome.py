# The import's rows keep their column; what applying did to each row moves to a table of its own.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('shipping', '0004_shipment_import'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RenameField(model_name='shipmentimport', old_name='rows', new_name='checked_rows'),
                migrations.AlterField(
                    model_name='shipmentimport',
                    name='checked_rows',
                    field=models.JSONField(db_column='rows', default=list),
                ),
            ],
            database_operations=[],
        ),
        migrations.CreateModel(
            name='ShipmentImportOutcome',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('row_index', models.PositiveIntegerField()),
                ('status', models.CharField(max_length=10)),
                ('shipment_id', models.CharField(blank=True, max_length=64)),
                ('error', models.TextField(blank=True)),
                ('code', models.CharField(blank=True, max_length=100)),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='outcomes',
                                          to='shipping.shipmentimport')),
            ],
            options={
                'ordering': ['job', 'row_index'],
                'constraints': [models.UniqueConstraint(fields=('job', 'row_index'),
                                                        name='shipment_import_outcome_row')],
            },
        ),
    ]
