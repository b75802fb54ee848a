"""The key fingerprints an archive package was signed with (第十五条): Ed25519 and SM2, as a
supply records them, so every later check compares with the keys that signed it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("keeping", "0010_digests_in_chinese")]

    operations = [
        migrations.AddField(
            model_name="archivepackage",
            name="key_fingerprint",
            field=models.CharField(blank=True, default="", max_length=64,
                                   verbose_name="签名公钥指纹"),
        ),
        migrations.AddField(
            model_name="archivepackage",
            name="sm2_key_fingerprint",
            field=models.CharField(blank=True, default="", max_length=64,
                                   verbose_name="SM2 签名公钥指纹"),
        ),
    ]
