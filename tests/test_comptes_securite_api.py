# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""An officer's session reads full API data only once its second factor is verified."""

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from .api_outils import api, donnees_api, resultats  # noqa: F401

pytestmark = pytest.mark.django_db


def test_session_d_agent_sans_second_facteur_lit_les_donnees_ouvertes(
    api, donnees_api, personas, settings
):
    settings.DOUBLE_AUTHENTIFICATION = True
    agent = personas["region-occitanie"]
    api.force_login(agent)
    assert sorted(resultats(api.get("/api/v1/projets/"), "statut")) == ["en_cours", "retenu"]

    appareil = TOTPDevice.objects.create(user=agent, name="téléphone", confirmed=True)
    session = api.session
    session[DEVICE_ID_SESSION_KEY] = appareil.persistent_id
    session.save()
    statuts = resultats(api.get("/api/v1/projets/"), "statut")
    assert sorted(statuts) == ["en_cours", "en_instruction"]
