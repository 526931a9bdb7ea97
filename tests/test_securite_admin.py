"""Hostile values in the back-office: search, filters, edit form (issue 9)."""

import pytest
from django.urls import reverse

from projets.models import Projet

XSS = '"><script>alert(1)</script>'
SQL = "' OR 1=1 --"
HOSTILES = [XSS, SQL, "x" * 5000, "%00", "\u202e"]

ADMIN_LISTES = [
    "/admin/projets/projet/",
    "/admin/financements/aide/",
    "/admin/territoires/territoire/",
    "/admin/financements/enveloppe/",
]


def _donnees_du_formulaire(contexte) -> dict:
    """What the browser would post back unchanged: the main form and each inline's
    management form and rows."""
    donnees = {}
    formulaires = [contexte["adminform"].form]
    for inline in contexte["inline_admin_formsets"]:
        formset = inline.formset
        gestion = formset.management_form
        donnees.update({gestion.add_prefix(nom): valeur for nom, valeur in gestion.initial.items()})
        formulaires += [f for f in formset.forms if f.instance.pk]
    for formulaire in formulaires:
        for nom, champ in formulaire.fields.items():
            valeur = formulaire.initial.get(nom, champ.initial)
            if hasattr(valeur, "pk"):
                valeur = valeur.pk
            if valeur is None:
                continue
            if isinstance(valeur, list | tuple):
                valeur = [getattr(v, "pk", v) for v in valeur]
            donnees[formulaire.add_prefix(nom)] = valeur
    return donnees


@pytest.fixture
def agent(client, personas):
    client.force_login(personas["region-ara"])
    return client


@pytest.mark.parametrize("url", ADMIN_LISTES)
@pytest.mark.parametrize("valeur", HOSTILES)
def test_recherche_et_filtres_hostiles(agent, projet_adn, url, valeur):
    for parametres in ({"q": valeur}, {"statut__exact": valeur}, {"region": valeur}):
        reponse = agent.get(url, parametres)
        # Django answers an unknown filter value by redirecting with ?e=1: never a 500.
        assert reponse.status_code in {200, 302}, (url, parametres)
        if reponse.status_code == 200:
            assert "<script>alert(1)</script>" not in reponse.content.decode()


def test_modification_hostile_du_dossier(agent, projet_adn):
    """XSS stored as text and escaped; a value too long refused in French; the
    reference, status and territory never changed through the form."""
    url = reverse("admin:projets_projet_change", args=[projet_adn.pk])
    donnees = _donnees_du_formulaire(agent.get(url).context)
    reponse = agent.post(url, {**donnees, "titre": "x" * 5000})
    assert reponse.status_code == 200
    assert "au plus" in reponse.content.decode()
    projet_adn.refresh_from_db()
    assert projet_adn.titre != "x" * 5000
    avant = (projet_adn.reference, projet_adn.statut, projet_adn.territoire_id)
    reponse = agent.post(
        url,
        {
            **donnees,
            "titre": XSS,
            "reference": "PIRATE-1",
            "statut": "retenu",
        },
    )
    projet = Projet.objects.get(pk=projet_adn.pk)
    assert (projet.reference, projet.statut, projet.territoire_id) == avant
    assert reponse.status_code == 302  # saved: the other fields are unchanged
    assert projet.titre == XSS
    page = agent.get(url).content.decode()
    assert "<script>alert(1)</script>" not in page
