# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""Who reads what: anonymous open data, token perimeter and level, revocation, sessions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.services import jeton_revoquer

from .api_outils import (  # noqa: F401
    _api_sans_quota_partage,
    api,
    donnees_api,
    emettre,
    entete,
    resultats,
)

CHAMPS_PERSONNELS = ("contact_nom", "contact_email", "contact_telephone", "deposant", "instructeur")


def test_anonyme_ne_voit_que_les_dossiers_publics(api, donnees_api):
    reponse = api.get("/api/v1/projets/")
    assert reponse.status_code == 200
    assert sorted(resultats(reponse, "statut")) == ["en_cours", "retenu"]
    for statut in ("brouillon", "refuse", "en_instruction", "depose", "a_completer"):
        assert api.get(f"/api/v1/projets/?statut={statut}").json()["results"] == []
    cache = donnees_api["brouillon"].reference
    assert api.get(f"/api/v1/projets/{cache}/").status_code == 404


def test_anonyme_ne_recoit_aucune_donnee_personnelle(api, donnees_api):
    texte = api.get("/api/v1/projets/").content.decode()
    csv = b"".join(api.get("/api/v1/projets/?format=csv").streaming_content).decode()
    detail = api.get(f"/api/v1/projets/{donnees_api['retenu'].reference}/").json()
    for contenu in (texte, csv):
        assert "Jeanne Secret" not in contenu
        assert "jeanne.secret@example.org" not in contenu
        assert "0601020304" not in contenu
    for champ in CHAMPS_PERSONNELS + ("aide_demandee",):
        assert champ not in detail
        assert champ not in csv.splitlines()[0].split(",")


def test_anonyme_ne_voit_que_les_aides_attribuees_des_dossiers_publics(api, donnees_api):
    montants = sorted(resultats(api.get("/api/v1/aides/"), "montant"))
    # The proposed aide (10 000 €) is not awarded yet.
    assert montants == ["20000.00", "30000.00", "50000.00"]
    versements = resultats(api.get("/api/v1/versements/"), "montant")
    assert sorted(versements) == ["10000.00", "20000.00", "20000.00"]
    proposee = donnees_api["proposee"].uuid
    assert api.get(f"/api/v1/aides/{proposee}/").status_code == 404


def test_les_enveloppes_demandent_un_acces_complet(api, donnees_api, personas):
    reponse = api.get("/api/v1/enveloppes/")
    assert reponse.status_code == 401
    assert reponse["WWW-Authenticate"].startswith("Token")
    assert reponse.json()["detail"]
    _, secret = emettre(personas, personas["partenaire-bpi"], niveau="opendata")
    reponse = api.get("/api/v1/enveloppes/", **entete(secret))
    assert reponse.status_code == 403
    assert "jeton" in reponse.json()["detail"]


def test_jeton_opendata_voit_comme_un_anonyme(api, donnees_api, personas):
    _, secret = emettre(personas, personas["partenaire-bpi"], niveau="opendata")
    reponse = api.get("/api/v1/projets/", **entete(secret, "Token"))
    assert sorted(resultats(reponse, "statut")) == ["en_cours", "retenu"]
    assert "contact_nom" not in reponse.json()["results"][0]


def test_jeton_complet_national_voit_tout_avec_les_contacts(api, donnees_api, personas):
    _, secret = emettre(personas, personas["partenaire-bpi"])
    reponse = api.get("/api/v1/projets/", **entete(secret))
    assert reponse.json()["count"] == 5
    retenu = api.get(f"/api/v1/projets/{donnees_api['retenu'].reference}/", **entete(secret))
    assert retenu.json()["contact_email"] == "jeanne.secret@example.org"
    assert retenu.json()["aide_demandee"] == "200000.00"
    aides = api.get("/api/v1/aides/", **entete(secret)).json()
    assert aides["count"] == 4
    enveloppes = api.get("/api/v1/enveloppes/", **entete(secret)).json()["results"]
    assert sorted(e["identifiant"] for e in enveloppes) == [
        "fonds-acceleration-76-2026",
        "fonds-acceleration-84-2026",
    ]


def test_jeton_complet_limite_au_perimetre_du_titulaire(api, donnees_api, personas):
    """An ARA regional officer's token: ARA dossiers (all statuses), never Occitanie's."""
    _, secret = emettre(personas, personas["region-ara"])
    statuts = resultats(api.get("/api/v1/projets/", **entete(secret)), "statut")
    assert sorted(statuts) == ["brouillon", "refuse", "retenu"]
    en_cours = donnees_api["en_cours"].reference
    assert api.get(f"/api/v1/projets/{en_cours}/", **entete(secret)).status_code == 404
    aides = resultats(api.get("/api/v1/aides/", **entete(secret)), "montant")
    assert sorted(aides) == ["10000.00", "50000.00"]
    enveloppes = resultats(api.get("/api/v1/enveloppes/", **entete(secret)), "region")
    assert enveloppes == ["84"]
    versements = resultats(api.get("/api/v1/versements/", **entete(secret)), "projet")
    assert set(versements) == {donnees_api["retenu"].reference}


def test_jeton_revoque_ou_expire_refuse_en_401(api, donnees_api, personas):
    jeton, secret = emettre(personas, personas["partenaire-bpi"])
    assert api.get("/api/v1/projets/", **entete(secret)).status_code == 200
    jeton_revoquer(par=personas["national"], jeton=jeton)
    reponse = api.get("/api/v1/projets/", **entete(secret))
    assert reponse.status_code == 401
    assert reponse.json()["detail"] == "Ce jeton a été révoqué."

    _, secret = emettre(
        personas, personas["partenaire-bpi"], expire_le=timezone.now() - timedelta(minutes=1)
    )
    reponse = api.get("/api/v1/projets/", **entete(secret))
    assert reponse.status_code == 401
    assert reponse.json()["detail"] == "Ce jeton a expiré."


def test_perimetre_reduit_applique_a_la_requete_suivante(api, donnees_api, personas):
    """A token follows its holder's perimeter as soon as the habilitation changes,
    through its fields or its many-to-many régions (cached counts included)."""
    from territoires.models import Region

    titulaire = personas["region-ara"]
    _, secret = emettre(personas, titulaire)
    assert resultats(api.get("/api/v1/enveloppes/", **entete(secret)), "region") == ["84"]
    habilitation = titulaire.habilitation
    habilitation.regions.set([Region.objects.get(code="76")])
    reponse = api.get("/api/v1/enveloppes/", **entete(secret))
    assert resultats(reponse, "region") == ["76"]
    habilitation.regions.set([])
    reponse = api.get("/api/v1/enveloppes/", **entete(secret))
    assert resultats(reponse, "region") == []
    assert reponse.json()["count"] == 0  # the cached count forgot the old perimeter
    habilitation.regions.set([Region.objects.get(code="84")])
    habilitation.echelon = "territoire"
    habilitation.save()
    assert resultats(api.get("/api/v1/enveloppes/", **entete(secret)), "region") == []


def test_jeton_inconnu_ou_mal_forme(api, donnees_api):
    assert api.get("/api/v1/projets/", **entete("inconnu")).json()["detail"] == "Jeton inconnu."
    reponse = api.get("/api/v1/projets/", HTTP_AUTHORIZATION="Token")
    assert reponse.status_code == 401
    assert "Authorization" in reponse.json()["detail"]


def test_titulaire_desactive_refuse(api, donnees_api, personas):
    _, secret = emettre(personas, personas["partenaire-bpi"])
    personas["partenaire-bpi"].is_active = False
    personas["partenaire-bpi"].save()
    assert api.get("/api/v1/projets/", **entete(secret)).status_code == 401


def test_le_secret_est_stocke_haché(donnees_api, personas):
    jeton, secret = emettre(personas, personas["partenaire-bpi"])
    jeton.refresh_from_db()
    assert secret not in (jeton.empreinte, jeton.prefixe)
    assert secret.startswith(jeton.prefixe)
    assert len(jeton.empreinte) == 64


def test_seuls_les_administrateurs_nationaux_emettent_et_revoquent(personas):
    from django.core.exceptions import PermissionDenied, ValidationError

    from api.models import JetonPartenaire
    from api.services import jeton_emettre

    for refuse in ("region-ara", "partenaire-bpi", "porteur-adn"):
        with pytest.raises(PermissionDenied):
            jeton_emettre(
                par=personas[refuse],
                jeton=JetonPartenaire(user=personas["partenaire-bpi"], nom="x"),
            )
    # A territory lead cannot hold a token.
    with pytest.raises(ValidationError):
        jeton_emettre(
            par=personas["national"], jeton=JetonPartenaire(user=personas["porteur-adn"], nom="x")
        )
    jeton, _ = emettre(personas, personas["partenaire-bpi"])
    with pytest.raises(PermissionDenied):
        jeton_revoquer(par=personas["region-ara"], jeton=jeton)
    jeton.refresh_from_db()
    assert jeton.revoque_le is None
    assert JetonPartenaire.objects.count() == 1


def test_session_d_agent_meme_perimetre(api, donnees_api, personas):
    api.force_login(personas["region-occitanie"])
    statuts = resultats(api.get("/api/v1/projets/"), "statut")
    assert sorted(statuts) == ["en_cours", "en_instruction"]
    # A territory lead signed in to the portal reads open data only.
    api.force_login(personas["porteur-adn"])
    assert sorted(resultats(api.get("/api/v1/projets/"), "statut")) == ["en_cours", "retenu"]


@pytest.mark.parametrize("methode", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", ["/api/v1/projets/", "/api/v1/projets/{ref}/", "/api/v1/aides/"])
def test_api_en_lecture_seule(api, donnees_api, personas, methode, url):
    _, secret = emettre(personas, personas["partenaire-bpi"])
    url = url.format(ref=donnees_api["retenu"].reference)
    reponse = getattr(api, methode)(url, {"titre": "Piraté"}, format="json", **entete(secret))
    assert reponse.status_code == 405
    assert "lecture seule" in reponse.json()["detail"]
    donnees_api["retenu"].refresh_from_db()
    assert donnees_api["retenu"].titre == "Extension de l'atelier"
