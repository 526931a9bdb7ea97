"""The DSFR form base shared by the portal and the account pages."""

from django import forms
from django.core.validators import MaxLengthValidator
from dsfr.forms import DsfrBaseForm


class FormulaireDsfr(DsfrBaseForm):
    """DSFR rendering (required fields carry the DSFR asterisk)."""

    def get_context(self):
        # Skip DsfrBaseForm.get_context: it only warns about a transitional setting.
        return forms.Form.get_context(self)


class IdentifiantBorneMixin:
    """AuthenticationForm sets the username's max_length without its validator: an
    oversized name would reach authentication (and django-axes' 255-character column,
    a 500 on PostgreSQL). Refuse it in the form, with Django's French message."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        champ = self.fields["username"]
        champ.validators.append(MaxLengthValidator(champ.max_length))
