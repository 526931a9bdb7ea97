# ruff: noqa: F811  (fixtures imported from tests/api_outils.py are used as arguments)
"""Partner self-service of webhook subscriptions: the services, the API
(`/api/v1/webhooks/`, authenticated by the token) and the partner space of the portal.
A partner sees and changes only its own tokens' subscriptions (404 otherwise)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from api import services
from api.models import AbonnementWebhook, LivraisonWebhook
from comptes.models import EvenementAudit

from .api_outils import _api_sans_quota_partage, api, emettre, entete  # noqa: F401

URL = "https://webhooks.partenaire.example/recevoir"


@pytest.fixture
def jetons(personas, db):
    """Bpifrance's token, a second partner's token, both valid."""
    from . import factories as f

    autre = f.UserFactory(username="partenaire-bdt")
    from territoires.models import Habilitation

    Habilitation.objects.create(user=autre, role=Habilitation.Role.PARTENAIRE)
    bpi, secret_bpi = emettre(personas, personas["partenaire-bpi"], niveau="opendata")
    bdt, secret_bdt = emettre(personas, autre, niveau="opendata")
    return {"bpi": bpi, "bdt": bdt, "secret_bpi": secret_bpi, "secret_bdt": secret_bdt}


# --- Services --------------------------------------------------------------------------------


def test_le_titulaire_gere_ses_abonnements(personas, jetons):
    bpi = personas["partenaire-bpi"]
    abonnement, secret = services.abonnement_creer(
        par=bpi, jeton=jetons["bpi"], url=URL, evenements=["aide.creation"]
    )
    assert secret.startswith("whsec_") and abonnement.secret == secret
    abonnement = services.abonnement_modifier(
        par=bpi, abonnement=abonnement, evenements=["projet.sortie"], actif=False
    )
    assert abonnement.evenements == ["projet.sortie"] and not abonnement.actif
    nouveau = services.abonnement_renouveler_secret(par=bpi, abonnement=abonnement)
    abonnement.refresh_from_db()
    assert nouveau != secret and abonnement.secret == nouveau
    services.abonnement_supprimer(par=bpi, abonnement=abonnement)
    assert not AbonnementWebhook.objects.exists()
    actions = set(EvenementAudit.objects.values_list("details__action", flat=True))
    assert {
        "abonnement_webhook",
        "abonnement_webhook_modification",
        "abonnement_webhook_secret",
        "abonnement_webhook_suppression",
    } <= actions


def test_reactivation_remet_les_echecs_a_zero(personas, jetons):
    bpi = personas["partenaire-bpi"]
    abonnement, _ = services.abonnement_creer(
        par=bpi, jeton=jetons["bpi"], url=URL, evenements=["aide.creation"]
    )
    AbonnementWebhook.objects.filter(pk=abonnement.pk).update(
        actif=False, echecs_consecutifs=10, motif_desactivation="10 échecs consécutifs"
    )
    abonnement = services.abonnement_modifier(par=bpi, abonnement=abonnement, actif=True)
    assert abonnement.actif and abonnement.echecs_consecutifs == 0
    assert abonnement.motif_desactivation == "" and abonnement.desactive_le is None


def test_un_partenaire_ne_touche_pas_aux_abonnements_d_un_autre(personas, jetons):
    abonnement, _ = services.abonnement_creer(
        par=personas["partenaire-bpi"], jeton=jetons["bpi"], url=URL, evenements=["aide.creation"]
    )
    intrus = jetons["bdt"].user
    with pytest.raises(PermissionDenied):
        services.abonnement_creer(
            par=intrus, jeton=jetons["bpi"], url=URL, evenements=["aide.creation"]
        )
    for appel in (
        lambda: services.abonnement_modifier(par=intrus, abonnement=abonnement, actif=False),
        lambda: services.abonnement_renouveler_secret(par=intrus, abonnement=abonnement),
        lambda: services.abonnement_supprimer(par=intrus, abonnement=abonnement),
    ):
        with pytest.raises(PermissionDenied):
            appel()
    abonnement.refresh_from_db()
    assert abonnement.actif


def test_nombre_d_abonnements_borne(personas, jetons, monkeypatch):
    monkeypatch.setattr(services, "MAX_ABONNEMENTS_PAR_JETON", 1)
    par = personas["partenaire-bpi"]
    services.abonnement_creer(par=par, jeton=jetons["bpi"], url=URL, evenements=["aide.creation"])
    with pytest.raises(ValidationError) as erreur:
        services.abonnement_creer(
            par=par, jeton=jetons["bpi"], url=URL, evenements=["aide.creation"]
        )
    assert "au plus 1 abonnements" in erreur.value.message_dict["jeton"][0]


# --- API ------------------------------------------------------------------------------------


def test_api_creer_lister_supprimer(api, jetons):
    cles = entete(jetons["secret_bpi"])
    reponse = api.post(
        "/api/v1/webhooks/",
        {"url": URL, "evenements": ["projet.creation", "aide.annulation"]},
        format="json",
        **cles,
    )
    assert reponse.status_code == 201, reponse.json()
    cree = reponse.json()
    assert cree["secret"].startswith("whsec_") and reponse["Cache-Control"] == "no-store"
    assert cree["jeton"] == jetons["bpi"].prefixe and cree["actif"] is True
    abonnement = AbonnementWebhook.objects.get()
    assert abonnement.jeton == jetons["bpi"] and abonnement.secret == cree["secret"]

    liste = api.get("/api/v1/webhooks/", **cles).json()
    assert [a["id"] for a in liste] == [abonnement.pk]
    assert "secret" not in liste[0]  # shown once only
    detail = api.get(f"/api/v1/webhooks/{abonnement.pk}/", **cles).json()
    assert detail["url"] == URL and "secret" not in detail

    reponse = api.patch(
        f"/api/v1/webhooks/{abonnement.pk}/", {"actif": False}, format="json", **cles
    )
    assert reponse.status_code == 200 and reponse.json()["actif"] is False
    reponse = api.post(f"/api/v1/webhooks/{abonnement.pk}/secret/", **cles)
    assert reponse.status_code == 200
    abonnement.refresh_from_db()
    assert reponse.json()["secret"] == abonnement.secret != cree["secret"]

    assert api.delete(f"/api/v1/webhooks/{abonnement.pk}/", **cles).status_code == 204
    assert not AbonnementWebhook.objects.exists()


def test_api_portee_du_jeton(api, personas, jetons):
    abonnement, _ = services.abonnement_creer(
        par=personas["partenaire-bpi"], jeton=jetons["bpi"], url=URL, evenements=["aide.creation"]
    )
    autre = entete(jetons["secret_bdt"])
    assert api.get("/api/v1/webhooks/", **autre).json() == []
    chemin = f"/api/v1/webhooks/{abonnement.pk}/"
    assert api.get(chemin, **autre).status_code == 404
    assert api.patch(chemin, {"actif": False}, format="json", **autre).status_code == 404
    assert api.post(chemin + "secret/", **autre).status_code == 404
    assert api.delete(chemin, **autre).status_code == 404
    abonnement.refresh_from_db()
    assert abonnement.actif and AbonnementWebhook.objects.count() == 1


def test_api_sans_jeton_refuse(api, personas, db):
    reponse = api.get("/api/v1/webhooks/")
    assert reponse.status_code == 401 and "jeton partenaire" in reponse.json()["detail"]
    api.force_login(personas["region-ara"])  # an officer's session is not a token
    assert api.get("/api/v1/webhooks/").status_code == 403
    assert api.post("/api/v1/webhooks/", {"url": URL}, format="json").status_code == 403


@pytest.mark.parametrize(
    "donnees, champ, motif",
    [
        (
            {"url": "http://webhooks.partenaire.example/", "evenements": ["aide.creation"]},
            "url",
            "https://",
        ),
        ({"url": "https://10.0.0.1/", "evenements": ["aide.creation"]}, "url", "adresse privée"),
        ({"url": "https://169.254.169.254/", "evenements": ["aide.creation"]}, "url", "lien-local"),
        ({"url": URL, "evenements": ["projet.vole"]}, "evenements", "valide"),
        ({"url": URL, "evenements": []}, "evenements", ""),
        ({"url": URL}, "evenements", ""),
    ],
)
def test_api_refus_en_francais_sans_rien_creer(api, jetons, donnees, champ, motif):
    reponse = api.post("/api/v1/webhooks/", donnees, format="json", **entete(jetons["secret_bpi"]))
    assert reponse.status_code == 400
    corps = reponse.json()
    assert champ in corps["erreurs"] and motif in str(corps["erreurs"][champ])
    assert not AbonnementWebhook.objects.exists()


def test_api_jeton_revoque_ne_gere_plus_rien(api, personas, jetons):
    services.jeton_revoquer(par=personas["national"], jeton=jetons["bpi"])
    assert api.get("/api/v1/webhooks/", **entete(jetons["secret_bpi"])).status_code == 401


def test_api_documentee(api, db):
    schema = api.get("/api/schema/?format=json").json()
    assert {"/api/v1/webhooks/", "/api/v1/webhooks/{id}/", "/api/v1/webhooks/{id}/secret/"} <= set(
        schema["paths"]
    )
    assert "post" in schema["paths"]["/api/v1/webhooks/"]
    assert "delete" in schema["paths"]["/api/v1/webhooks/{id}/"]


def test_livraisons_gardees_pour_l_abonnement_seulement(personas, jetons):
    abonnement, _ = services.abonnement_creer(
        par=personas["partenaire-bpi"], jeton=jetons["bpi"], url=URL, evenements=["aide.creation"]
    )
    LivraisonWebhook.objects.create(
        abonnement=abonnement, identifiant="msg_1", evenement="aide.creation", corps="{}"
    )
    services.abonnement_supprimer(par=personas["partenaire-bpi"], abonnement=abonnement)
    assert not LivraisonWebhook.objects.exists()


# --- Partner space (portal) ---------------------------------------------------------------


def test_espace_partenaire_creer_puis_gerer(client, personas, jetons):
    client.force_login(personas["partenaire-bpi"])
    page = client.get(reverse("webhook_nouveau"))
    assert page.status_code == 200
    texte = page.content.decode()
    assert "Dossiers : création" in texte and jetons["bpi"].prefixe in texte
    assert jetons["bdt"].prefixe not in texte  # another partner's token is not offered

    reponse = client.post(
        reverse("webhook_nouveau"),
        {
            "jeton": jetons["bpi"].pk,
            "url": URL,
            "evenements": ["projet.creation", "aide.annulation"],
            "actif": "on",
        },
    )
    abonnement = AbonnementWebhook.objects.get()
    assert reponse.status_code == 200 and reponse["Cache-Control"] == "no-store"
    assert abonnement.secret in reponse.content.decode()  # shown once, here
    assert abonnement.jeton == jetons["bpi"] and abonnement.evenements == [
        "projet.creation",
        "aide.annulation",
    ]

    espace = client.get(reverse("espace_partenaire")).content.decode()
    assert URL in espace and abonnement.secret not in espace
    gerer = client.get(reverse("webhook_modifier", args=[abonnement.pk])).content.decode()
    assert abonnement.secret not in gerer and "Aucune livraison" in gerer

    reponse = client.post(
        reverse("webhook_modifier", args=[abonnement.pk]),
        {"url": URL, "evenements": ["aide.creation"]},  # « actif » unchecked
    )
    assert reponse.status_code == 302
    abonnement.refresh_from_db()
    assert abonnement.evenements == ["aide.creation"] and not abonnement.actif

    ancien = abonnement.secret
    reponse = client.post(reverse("webhook_secret", args=[abonnement.pk]))
    abonnement.refresh_from_db()
    assert abonnement.secret != ancien and abonnement.secret in reponse.content.decode()

    assert client.get(reverse("webhook_supprimer", args=[abonnement.pk])).status_code == 200
    assert client.post(reverse("webhook_supprimer", args=[abonnement.pk])).status_code == 302
    assert not AbonnementWebhook.objects.exists()


@pytest.mark.parametrize(
    "donnees, champ, motif",
    [
        ({"url": "http://webhooks.partenaire.example/"}, "url", "https://"),
        ({"url": "https://192.168.0.10/hook"}, "url", "adresse privée"),
        ({"url": "https://[::1]/hook"}, "url", "bouclage"),
        ({"url": "pas une adresse"}, "url", "adresse web complète"),
        ({"url": URL, "evenements": []}, "evenements", "au moins un événement"),
    ],
)
def test_espace_partenaire_refus_en_francais(client, personas, jetons, donnees, champ, motif):
    client.force_login(personas["partenaire-bpi"])
    envoi = {"jeton": jetons["bpi"].pk, "evenements": ["aide.creation"], **donnees}
    reponse = client.post(reverse("webhook_nouveau"), envoi)
    assert reponse.status_code == 200
    erreurs = reponse.context["form"].errors
    assert champ in erreurs and motif in " ".join(erreurs[champ])
    assert not AbonnementWebhook.objects.exists()


def test_espace_partenaire_jeton_d_un_autre_refuse(client, personas, jetons):
    client.force_login(personas["partenaire-bpi"])
    reponse = client.post(
        reverse("webhook_nouveau"),
        {"jeton": jetons["bdt"].pk, "url": URL, "evenements": ["aide.creation"]},
    )
    assert "jeton" in reponse.context["form"].errors
    assert not AbonnementWebhook.objects.exists()


def test_espace_partenaire_abonnement_d_un_autre_404(client, personas, jetons):
    abonnement, _ = services.abonnement_creer(
        par=jetons["bdt"].user, jeton=jetons["bdt"], url=URL, evenements=["aide.creation"]
    )
    client.force_login(personas["partenaire-bpi"])
    for nom in ("webhook_modifier", "webhook_supprimer"):
        assert client.get(reverse(nom, args=[abonnement.pk])).status_code == 404
    for nom in ("webhook_modifier", "webhook_secret", "webhook_supprimer"):
        assert client.post(reverse(nom, args=[abonnement.pk]), {}).status_code == 404
    assert URL not in client.get(reverse("espace_partenaire")).content.decode()
    abonnement.refresh_from_db()
    assert abonnement.actif and AbonnementWebhook.objects.count() == 1


def test_espace_partenaire_reserve_aux_partenaires(client, personas, db):
    assert client.get(reverse("webhook_nouveau")).status_code == 302  # sign in first
    client.force_login(personas["porteur-adn"])
    assert client.get(reverse("webhook_nouveau")).url == reverse("espace_partenaire")


def test_api_modification_refusee_ne_change_rien(api, personas, jetons):
    abonnement, _ = services.abonnement_creer(
        par=personas["partenaire-bpi"], jeton=jetons["bpi"], url=URL, evenements=["aide.creation"]
    )
    chemin = f"/api/v1/webhooks/{abonnement.pk}/"
    cles = entete(jetons["secret_bpi"])
    reponse = api.patch(chemin, {"url": "https://10.0.0.1/"}, format="json", **cles)
    assert reponse.status_code == 400 and "adresse privée" in str(reponse.json()["erreurs"])
    reponse = api.patch(chemin, {"evenements": ["projet.vole"]}, format="json", **cles)
    assert reponse.status_code == 400
    assert api.put(chemin, {"url": URL}, format="json", **cles).status_code == 405
    abonnement.refresh_from_db()
    assert abonnement.url == URL and abonnement.evenements == ["aide.creation"]
