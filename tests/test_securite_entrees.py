"""Bad input on every portal form and API endpoint: hostile, malformed, oversized values.

Expected everywhere: a 4xx or a form error with a French message (never a 500), output
escaped, nothing stored beyond what the form allows (row counts checked before/after).
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from comptes.models import DemandeHabilitation, Invitation
from demo.donnees import PDF_MINIMAL
from projets.models import Message, PieceJointe, Projet, Statut, TransitionProjet

from . import factories as f
from .api_outils import _api_sans_quota_partage  # noqa: F401 (autouse: no API throttling)

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
SQL = ["' OR 1=1 --", "1; DROP TABLE projets_projet"]
TROP_LONG = "x" * 10_000

ECHAPPES = {
    SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;",
    IMAGE: "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
}
BRUTS = {SCRIPT: "<script>alert(1)</script>", IMAGE: "<img src=x onerror=alert(1)>"}


def _comptes():
    return {
        modele.__name__: modele.objects.count()
        for modele in (
            Projet,
            PieceJointe,
            Message,
            TransitionProjet,
            Invitation,
            DemandeHabilitation,
        )
    }


def _texte(reponse) -> str:
    return reponse.content.decode(errors="replace")


@pytest.fixture
def porteur(client, personas):
    client.force_login(personas["porteur-adn"])
    return client


def _section(projet, section):
    return reverse("dossier_section", args=[projet.reference, section])


# ---------------------------------------------------------------------------
# XSS: stored as typed, shown escaped


# (section, field, page that shows it)
CHAMPS_AFFICHES = [
    ("porteur", "porteur_raison_sociale", "dossier_recapitulatif"),
    ("porteur", "contact_nom", "dossier_recapitulatif"),
    ("projet", "titre", "dossier_detail"),
    ("projet", "description", "dossier_recapitulatif"),
]


def test_xss_dans_une_section_est_stockee_telle_quelle_et_affichee_echappee(porteur, projet_adn):
    for section, champ, page in CHAMPS_AFFICHES:
        _test_xss_dans_une_section_est_stockee_telle_quelle_et_affichee_echappee(
            porteur, projet_adn, section, champ, page
        )


def _test_xss_dans_une_section_est_stockee_telle_quelle_et_affichee_echappee(
    porteur, projet_adn, section, champ, page
):
    for charge in (SCRIPT, IMAGE):
        _xss_section(porteur, projet_adn, charge, section, champ, page)


def _xss_section(porteur, projet_adn, charge, section, champ, page):
    donnees = {"titre": "Titre valide", champ: charge}  # titre is required in its section
    reponse = porteur.post(_section(projet_adn, section), donnees)
    assert reponse.status_code == 302, _texte(reponse)[:2000]
    projet_adn.refresh_from_db()
    assert getattr(projet_adn, champ) == charge
    for url in (reverse(page, args=[projet_adn.reference]), _section(projet_adn, section)):
        html = _texte(porteur.get(url))
        assert BRUTS[charge] not in html, url
        assert ECHAPPES[charge] in html, url


def test_xss_dans_un_message_et_un_nouveau_dossier(porteur, projet_adn):
    for charge in (SCRIPT, IMAGE):
        _test_xss_dans_un_message_et_un_nouveau_dossier(porteur, projet_adn, charge)


def _test_xss_dans_un_message_et_un_nouveau_dossier(porteur, projet_adn, charge):
    url = reverse("dossier_detail", args=[projet_adn.reference])
    assert porteur.post(url, {"texte": charge}).status_code == 302
    assert Message.objects.filter(projet=projet_adn, texte=charge).exists()
    html = _texte(porteur.get(url))
    assert BRUTS[charge] not in html and ECHAPPES[charge] in html

    nombre = Projet.objects.count()
    territoire = projet_adn.territoire_id
    reponse = porteur.post(reverse("dossier_nouveau"), {"titre": charge, "territoire": territoire})
    assert reponse.status_code == 302
    assert Projet.objects.count() == nombre + 1
    html = _texte(porteur.get(reverse("mes_dossiers")))
    assert BRUTS[charge] not in html and ECHAPPES[charge] in html


def test_xss_renvoyee_dans_un_formulaire_en_erreur_est_echappee(porteur, projet_adn):
    for charge in (SCRIPT, IMAGE):
        _test_xss_renvoyee_dans_un_formulaire_en_erreur_est_echappee(porteur, projet_adn, charge)


def _test_xss_renvoyee_dans_un_formulaire_en_erreur_est_echappee(porteur, projet_adn, charge):
    """A refused form shows the typed value back, escaped."""
    reponse = porteur.post(
        _section(projet_adn, "porteur"),
        {"porteur_raison_sociale": charge, "contact_email": charge},
    )
    assert reponse.status_code == 200
    html = _texte(reponse)
    assert BRUTS[charge] not in html
    assert "Saisissez une adresse" in html  # French message of the invalid e-mail
    projet_adn.refresh_from_db()
    assert projet_adn.porteur_raison_sociale == "Ateliers du Vivarais"


def test_xss_dans_les_recherches_publiques(client, monde):
    for charge in (SCRIPT, IMAGE):
        _test_xss_dans_les_recherches_publiques(client, monde, charge)


def _test_xss_dans_les_recherches_publiques(client, monde, charge):
    for url in (
        f"{reverse('territoires')}?q={charge}",
        f"{reverse('territoires')}?region={charge}&page={charge}",
        f"{reverse('connexion')}?next={charge}",
    ):
        reponse = client.get(url)
        assert reponse.status_code in {200, 400}, url
        assert BRUTS[charge] not in _texte(reponse), url


# ---------------------------------------------------------------------------
# SQL fragments: plain text, or a French form error


def test_sql_dans_un_texte_est_stocke_comme_du_texte(porteur, projet_adn):
    comptes = _comptes()
    for fragment in SQL:
        reponse = porteur.post(
            _section(projet_adn, "projet"), {"titre": fragment, "description": fragment}
        )
        assert reponse.status_code == 302
        projet_adn.refresh_from_db()
        assert (projet_adn.titre, projet_adn.description) == (fragment, fragment)
    assert _comptes() == comptes


# (section, field, French message expected)
CHAMPS_TYPES = [
    ("impacts", "emplois_crees", "Saisissez un nombre entier"),
    ("impacts", "co2_evite", "Saisissez un nombre"),
    ("financement", "montant_investissement", "Saisissez un montant en euros"),
    ("financement", "aide_demandee", "Saisissez un montant en euros"),
    ("projet", "date_debut_prevue", "Saisissez une date valide"),
    ("projet", "date_fin_prevue", "Saisissez une date valide"),
    ("projet", "axes", "n’est pas une valeur correcte"),
    ("projet", "nature", "Sélectionnez un choix valide"),
    ("porteur", "porteur_taille", "Sélectionnez un choix valide"),
    ("localisation", "commune", "Sélectionnez un choix valide"),
]


def test_sql_dans_un_champ_type_donne_une_erreur_en_francais(porteur, projet_adn):
    for section, champ, message in CHAMPS_TYPES:
        _test_sql_dans_un_champ_type_donne_une_erreur_en_francais(
            porteur, projet_adn, section, champ, message
        )


def _test_sql_dans_un_champ_type_donne_une_erreur_en_francais(
    porteur, projet_adn, section, champ, message
):
    avant = Projet.objects.values().get(pk=projet_adn.pk)
    for fragment in SQL:
        reponse = porteur.post(_section(projet_adn, section), {champ: fragment})
        assert reponse.status_code == 200
        assert message in _texte(reponse), fragment
    apres = Projet.objects.values().get(pk=projet_adn.pk)
    assert apres == avant


def test_sql_dans_les_recherches(porteur, client, projet_adn):
    comptes = _comptes()
    url = _section(projet_adn, "localisation")
    for fragment in SQL:
        _rechercher(porteur, client, url, fragment)
    assert _comptes() == comptes


def _rechercher(porteur, client, url, fragment):
    assert porteur.get(url, {"recherche_commune": fragment}).status_code == 200
    reponse = porteur.post(url, {"recherche_commune": fragment, "action": "rechercher"})
    assert reponse.status_code == 200
    for parametres in ({"q": fragment}, {"region": fragment}, {"phase": fragment}):
        assert client.get(reverse("territoires"), parametres).status_code == 200


# ---------------------------------------------------------------------------
# Oversized values: French error, nothing stored

TROP_LONGS = [
    ("porteur", "porteur_raison_sociale"),
    ("porteur", "contact_nom"),
    ("porteur", "contact_telephone"),
    ("porteur", "porteur_siret"),
    ("projet", "titre"),
    ("localisation", "commune"),
    ("financement", "montant_investissement"),
    ("impacts", "emplois_crees"),
]


def test_valeur_trop_longue_dans_une_section(porteur, projet_adn):
    for section, champ in TROP_LONGS:
        _test_valeur_trop_longue_dans_une_section(porteur, projet_adn, section, champ)


def _test_valeur_trop_longue_dans_une_section(porteur, projet_adn, section, champ):
    avant = Projet.objects.values().get(pk=projet_adn.pk)
    reponse = porteur.post(_section(projet_adn, section), {champ: TROP_LONG})
    assert reponse.status_code == 200
    html = _texte(reponse)
    assert "fr-error-text" in html or "fr-message--error" in html, html[:2000]
    assert Projet.objects.values().get(pk=projet_adn.pk) == avant


def test_valeurs_trop_longues_dans_les_autres_formulaires(porteur, client, projet_adn):
    comptes = _comptes()
    detail = reverse("dossier_detail", args=[projet_adn.reference])
    for url, donnees in [
        (reverse("dossier_nouveau"), {"titre": TROP_LONG}),
        (detail, {"texte": TROP_LONG}),
        (reverse("dossier_abandonner", args=[projet_adn.reference]), {"commentaire": TROP_LONG}),
    ]:
        reponse = porteur.post(url, donnees)
        assert reponse.status_code == 200, url
        assert "Assurez-vous que cette valeur comporte au plus" in _texte(reponse), url
    # Sending back with an oversized comment: the comment is dropped, never stored.
    porteur.post(reverse("dossier_deposer", args=[projet_adn.reference]), {"commentaire": "x"})
    assert _comptes()["Projet"] == comptes["Projet"]
    assert _comptes()["Message"] == comptes["Message"]
    projet_adn.refresh_from_db()
    assert projet_adn.statut != Statut.ABANDONNE
    client.logout()
    reponse = client.get(reverse("territoires"), {"q": TROP_LONG})
    assert reponse.status_code == 200
    # Refused by the form before authentication (django-axes stores at most 255 characters).
    for url in (reverse("connexion"), reverse("admin:login")):
        reponse = client.post(url, {"username": TROP_LONG, "password": TROP_LONG})
        assert reponse.status_code == 200, url
        assert "Assurez-vous que cette valeur comporte au plus 150 caractères" in _texte(reponse)
        assert "_auth_user_id" not in client.session


# ---------------------------------------------------------------------------
# Invalid UTF-8 and NUL characters


REQUETES_MAL_ENCODEES = ["q=%ff%fe", "q=%00", "q=a%00b", "region=%ff", "page=%00", "phase=%c3%28"]


def test_octets_invalides_dans_la_query_string(client, monde):
    for requete in REQUETES_MAL_ENCODEES:
        _test_octets_invalides_dans_la_query_string(client, monde, requete)


def _test_octets_invalides_dans_la_query_string(client, monde, requete):
    reponse = client.get(f"{reverse('territoires')}?{requete}")
    assert reponse.status_code in {200, 400}


def test_caractere_nul_dans_un_formulaire(porteur, client, projet_adn):
    for valeur in ("a\x00b", "\x00"):
        _test_caractere_nul_dans_un_formulaire(porteur, client, projet_adn, valeur)
    client.logout()
    for valeur in ("a\x00b", "\x00"):
        reponse = client.post(reverse("connexion"), {"username": valeur, "password": valeur})
        assert reponse.status_code == 200
        assert "Le caractère nul n’est pas autorisé" in _texte(reponse)


def _test_caractere_nul_dans_un_formulaire(porteur, client, projet_adn, valeur):
    comptes = _comptes()
    avant = Projet.objects.values().get(pk=projet_adn.pk)
    for url, donnees in [
        (_section(projet_adn, "projet"), {"titre": valeur}),
        (_section(projet_adn, "porteur"), {"porteur_raison_sociale": valeur}),
        (reverse("dossier_nouveau"), {"titre": valeur}),
        (reverse("dossier_detail", args=[projet_adn.reference]), {"texte": valeur}),
    ]:
        reponse = porteur.post(url, donnees)
        assert reponse.status_code == 200, url
        assert "Le caractère nul n’est pas autorisé" in _texte(reponse), url
    assert Projet.objects.values().get(pk=projet_adn.pk) == avant
    assert _comptes() == comptes


def test_corps_de_formulaire_mal_encode(porteur, projet_adn):
    for corps in (b"titre=%ff%fe%fd", b"titre=\xff\xfe\xfd", b"titre=a%00b"):
        _test_corps_de_formulaire_mal_encode(porteur, projet_adn, corps)


def _test_corps_de_formulaire_mal_encode(porteur, projet_adn, corps):
    """Undecodable bytes: replaced (U+FFFD) or refused, never a 500."""
    comptes = _comptes()
    reponse = porteur.post(
        _section(projet_adn, "projet"),
        corps,
        content_type="application/x-www-form-urlencoded",
    )
    assert reponse.status_code in {200, 302, 400}
    projet_adn.refresh_from_db()
    assert "\x00" not in projet_adn.titre
    assert _comptes() == comptes


# ---------------------------------------------------------------------------
# Uploads: path traversal and hostile names


NOMS_HOSTILES = [
    "../../etc/passwd.pdf",
    "..\\..\\x.pdf",
    "/etc/passwd.pdf",
    "a\x00b.pdf",
    "x" * 300 + ".pdf",
    "<script>alert(1)</script>.pdf",
    "....//....//x.pdf",
]


def test_nom_de_fichier_hostile_jamais_hors_de_media_root(porteur, projet_adn, settings):
    for nom in NOMS_HOSTILES:
        _test_nom_de_fichier_hostile_jamais_hors_de_media_root(porteur, projet_adn, settings, nom)


def _test_nom_de_fichier_hostile_jamais_hors_de_media_root(porteur, projet_adn, settings, nom):
    from pathlib import Path

    nombre = PieceJointe.objects.count()
    fichier = SimpleUploadedFile(nom, PDF_MINIMAL, content_type="application/pdf")
    reponse = porteur.post(_section(projet_adn, "pieces"), {"type": "devis", "fichier": fichier})
    assert reponse.status_code in {200, 302}
    racine = Path(settings.MEDIA_ROOT).resolve()
    for piece in PieceJointe.objects.all():
        chemin = Path(piece.fichier.path).resolve()
        assert chemin.is_relative_to(racine), chemin
        assert ".." not in piece.fichier.name
        assert not {"/", "\\", "\x00"} & set(piece.nom_original), piece.nom_original
        assert len(piece.nom_original) <= 200
    if reponse.status_code == 200:
        assert PieceJointe.objects.count() == nombre
        assert "fr-error-text" in _texte(reponse) or "fr-alert--error" in _texte(reponse)
    else:
        assert PieceJointe.objects.count() == nombre + 1
        html = _texte(porteur.get(_section(projet_adn, "pieces")))
        assert "<script>alert(1)</script>" not in html


def test_fichier_non_pdf_deguise_refuse(porteur, projet_adn):
    nombre = PieceJointe.objects.count()
    fichier = SimpleUploadedFile("devis.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf")
    reponse = porteur.post(_section(projet_adn, "pieces"), {"type": "devis", "fichier": fichier})
    assert reponse.status_code == 200
    assert PieceJointe.objects.count() == nombre


# ---------------------------------------------------------------------------
# Mass assignment


INTERDITS = ["statut", "instructeur", "territoire", "reference", "deposant", "phase", "depose_le"]


def test_assignation_de_champs_interdits_ignoree(porteur, monde, personas, projet_adn):
    for section in ("porteur", "projet", "localisation", "financement", "impacts"):
        _test_assignation_de_champs_interdits_ignoree(porteur, monde, personas, projet_adn, section)


def _test_assignation_de_champs_interdits_ignoree(porteur, monde, personas, projet_adn, section):
    avant = Projet.objects.values(*INTERDITS).get(pk=projet_adn.pk)
    donnees = {
        "statut": "retenu",
        "instructeur": personas["region-ara"].pk,
        "territoire": monde["ales"].pk,
        "reference": "X",
        "deposant": personas["porteur-ales"].pk,
        "phase": "999",
        "depose_le": "2020-01-01",
        "titre": "Titre valide",
        "porteur_raison_sociale": "Raison valide",
    }
    reponse = porteur.post(_section(projet_adn, section), donnees)
    assert reponse.status_code == 302
    assert Projet.objects.values(*INTERDITS).get(pk=projet_adn.pk) == avant


def test_nouveau_dossier_sur_un_territoire_d_un_autre_perimetre_refuse(porteur, monde, personas):
    comptes = _comptes()
    reponse = porteur.post(
        reverse("dossier_nouveau"),
        {
            "titre": "Valide",
            "territoire": monde["ales"].pk,
            "statut": "retenu",
            "deposant": personas["porteur-ales"].pk,
        },
    )
    # The lead has one territory (hidden field): a foreign one is an invalid choice.
    assert reponse.status_code == 200
    assert "Ce territoire ne fait pas partie de votre périmètre." in _texte(reponse)
    assert _comptes() == comptes
    reponse = porteur.post(
        reverse("dossier_nouveau"),
        {"titre": "Valide", "territoire": monde["adn"].pk, "statut": "retenu", "reference": "X"},
    )
    assert reponse.status_code == 302
    projet = Projet.objects.latest("pk")
    assert projet.statut == Statut.BROUILLON and projet.reference != "X"
    assert projet.deposant == personas["porteur-adn"]


# ---------------------------------------------------------------------------
# Wrong methods on portal pages


PAGES_PORTAIL = [
    ("accueil", False),
    ("territoires", False),
    ("connexion", False),
    ("mot_de_passe_oublie", False),
    ("compte", True),
    ("mes_dossiers", True),
    ("dossier_nouveau", True),
    ("dossier_detail", True),
    ("dossier_section", True),
    ("dossier_recapitulatif", True),
    ("dossier_deposer", True),
    ("dossier_abandonner", True),
    ("piece_jointe_telecharger", True),
    ("mot_de_passe_changer", True),
    ("comptes:en_attente", True),
    ("comptes:invitations", True),
    ("comptes:demandes", True),
]


def test_methode_non_permise_sur_le_portail_repond_405(client, personas, projet_adn):
    for nom, connecte in PAGES_PORTAIL:
        _test_methode_non_permise_sur_le_portail_repond_405(
            client, personas, projet_adn, nom, connecte
        )


def _test_methode_non_permise_sur_le_portail_repond_405(
    client, personas, projet_adn, nom, connecte
):
    client.logout()
    if connecte:
        client.force_login(personas["porteur-adn"])
    kwargs = {}
    if nom.startswith("dossier_") and nom not in {"dossier_nouveau"}:
        kwargs["reference"] = projet_adn.reference
    if nom == "dossier_section":
        kwargs["section"] = "porteur"
    if nom == "piece_jointe_telecharger":
        kwargs = {
            "reference": projet_adn.reference,
            "uuid": projet_adn.pieces_jointes.get().uuid,
        }
    comptes = _comptes()
    avant = Projet.objects.values().get(pk=projet_adn.pk)
    for methode in ("put", "delete", "patch"):
        reponse = getattr(client, methode)(reverse(nom, kwargs=kwargs), "titre=X")
        assert reponse.status_code == 405, (nom, methode, reponse.status_code)
    assert _comptes() == comptes
    assert Projet.objects.values().get(pk=projet_adn.pk) == avant


# ---------------------------------------------------------------------------
# API (read-only)


# The one API resource partners write: their own webhook subscriptions
# (tests/test_webhooks_partenaires.py covers its writes and refusals).
API_ECRITURE = {"api:webhook-list", "api:webhook-detail", "api:webhook-secret"}


def _api_adresses():
    from .test_securite_idor import _motifs_api

    listes, details = [], []
    for nom, _, kwargs in _motifs_api():
        if nom in API_ECRITURE:
            continue
        if nom.endswith("-list"):
            listes.append(nom)
        elif nom.endswith("-detail") and kwargs:
            details.append(nom)
    return sorted(listes), sorted(details)


API_LISTES, API_DETAILS = _api_adresses()
API_AUTRES = ["api:racine", "api:statistiques", "api:opendata-subventions"]


def test_adresses_de_l_api_enumerees():
    assert len(API_LISTES) >= 12 and len(API_DETAILS) >= 12


@pytest.fixture
def api_donnees(monde, personas, projet_adn):
    from decimal import Decimal

    enveloppe = f.EnveloppeFactory(region=monde["ara"])
    aide = f.AideFactory(enveloppe=enveloppe, projet=projet_adn)
    from financements.models import Versement

    versement = Versement.objects.create(aide=aide, montant=Decimal("10"), date="2026-01-01")
    axe = monde["axes"][0]
    return {
        "api:region-detail": "84",
        "api:departement-detail": "07",
        "api:intercommunalite-detail": monde["epci_07"].siren,
        "api:commune-detail": "07010",
        "api:phase-detail": monde["phase"].code,
        "api:axe-detail": f"{axe.phase.code}-{axe.code}",
        "api:territoire-detail": monde["adn"].slug,
        "api:projet-detail": projet_adn.reference,
        "api:dispositif-detail": enveloppe.dispositif.code,
        "api:enveloppe-detail": f"{enveloppe.dispositif.code}-84-{enveloppe.annee}",
        "api:aide-detail": str(aide.uuid),
        "api:versement-detail": str(versement.uuid),
    }


@pytest.fixture
def jeton_national(personas):
    from .api_outils import emettre, entete

    _, secret = emettre(personas, personas["national"])
    return entete(secret)


def test_api_en_lecture_seule_405_json_en_francais(client, api_donnees, jeton_national):
    comptes = _comptes()
    adresses = [reverse(n) for n in API_LISTES + API_AUTRES]
    adresses += [reverse(n, args=[api_donnees[n]]) for n in API_DETAILS]
    for methode, url in ((m, u) for m in ("post", "put", "patch", "delete") for u in adresses):
        reponse = getattr(client, methode)(
            url, json.dumps({"titre": SCRIPT}), content_type="application/json", **jeton_national
        )
        assert reponse.status_code == 405, (methode, url, reponse.status_code)
        assert reponse["Content-Type"].startswith("application/json"), url
        detail = reponse.json()["detail"]
        assert "non autorisée" in detail or "non permise" in detail, detail
    assert _comptes() == comptes


PARAMETRES_HOSTILES = [
    f"q={SCRIPT}",
    f"search={SCRIPT}&ordering={SCRIPT}",
    "q=' OR 1=1 --&territoire=1; DROP TABLE projets_projet",
    f"q={TROP_LONG}",
    "q=%00&region=%00",
    "q=%ff%fe&region=%ff",
    "page=999999999999999999999",
    "page=-1",
    "page_size=-5",
    "page_size=99999999",
    "cursor=%ff%00<script>",
    "statut=<script>&region=84' --&annee=abc&depose_apres=2026-13-45",
    "format=<script>",
]


def test_api_parametres_hostiles_sur_chaque_liste(client, api_donnees, jeton_national):
    for nom in API_LISTES + API_AUTRES:
        _test_api_parametres_hostiles_sur_chaque_liste(client, api_donnees, jeton_national, nom)


def _test_api_parametres_hostiles_sur_chaque_liste(client, api_donnees, jeton_national, nom):
    for requete in PARAMETRES_HOSTILES:
        url = f"{reverse(nom)}?{requete}"
        for entetes in ({}, jeton_national):
            reponse = client.get(url, **entetes)
            # 401/403: full-access resources without a token.
            assert reponse.status_code in {200, 400, 401, 403, 404}, (url, reponse.status_code)
            # Whatever is echoed back is JSON (or CSV), never rendered as HTML.
            type_ = reponse["Content-Type"]
            assert type_.startswith(("application/json", "text/csv")), (url, type_)


# ---------------------------------------------------------------------------
# Account forms (comptes/): invitations, access requests, invitation acceptance, 2FA


HOSTILES = [SCRIPT, IMAGE, *SQL, TROP_LONG, "a\x00b"]


def _sans_brut(reponse):
    html = _texte(reponse)
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x onerror=alert(1)>" not in html
    return html


def test_formulaires_d_habilitation_valeurs_hostiles(client, monde, personas, mailoutbox):
    from territoires.models import Habilitation

    demande = DemandeHabilitation.objects.create(
        user=f.UserFactory(username="demandeur"), email="demandeur@exemple.fr"
    )
    client.force_login(personas["national"])
    comptes, habilitations = _comptes(), Habilitation.objects.count()
    for valeur in HOSTILES:
        donnees = {
            "role": valeur,
            "echelon": valeur,
            "niveau": valeur,
            "organisation": valeur,
            "regions": valeur,
            "departements": valeur,
            "territoires": valeur,
        }
        reponse = client.post(reverse("comptes:invitations"), {**donnees, "email": valeur})
        assert reponse.status_code == 200, valeur[:30]
        assert "Saisissez une adresse" in _sans_brut(reponse)
        reponse = client.post(reverse("comptes:demande", args=[demande.pk]), donnees)
        assert reponse.status_code == 200, valeur[:30]
        assert "Sélectionnez un choix valide" in _sans_brut(reponse)
    assert _comptes() == comptes
    assert Habilitation.objects.count() == habilitations
    demande.refresh_from_db()
    assert demande.statut == DemandeHabilitation.Statut.EN_ATTENTE
    assert not mailoutbox


def test_acceptation_d_invitation_et_mot_de_passe_oublie_valeurs_hostiles(
    client, monde, personas, mailoutbox
):
    from django.contrib.auth import get_user_model

    from comptes.services import Perimetre, inviter

    _, jeton = inviter(
        personas["national"],
        "invite@exemple.fr",
        Perimetre(role="porteur", echelon="territoire", territoires=[monde["adn"]]),
    )
    mailoutbox.clear()
    utilisateurs = get_user_model().objects.count()
    for valeur in HOSTILES:
        reponse = client.post(
            reverse("comptes:invitation", args=[jeton]),
            {"mot_de_passe": valeur, "confirmation": valeur + "x"},
        )
        assert reponse.status_code == 200, valeur[:30]
        _sans_brut(reponse)
        reponse = client.post(reverse("mot_de_passe_oublie"), {"email": valeur})
        assert reponse.status_code == 200, valeur[:30]
        assert "Saisissez une adresse" in _sans_brut(reponse)
    for jeton_hostile in ["..%2F..%2Fetc%2Fpasswd", "%00", "x" * 2000, "' OR 1=1 --"]:
        assert client.get(f"/comptes/invitation/{jeton_hostile}/").status_code in {404, 410}
    assert get_user_model().objects.count() == utilisateurs
    assert not mailoutbox


def test_double_authentification_code_hostile(client, personas, settings):
    settings.DOUBLE_AUTHENTIFICATION = True
    client.force_login(personas["national"])
    for nom in ("comptes:double_authentification_activer", "comptes:double_authentification"):
        url = reverse(nom)
        client.get(url)
        for valeur in HOSTILES:
            reponse = client.post(url, {"code": valeur})
            assert reponse.status_code in {200, 302}, (nom, valeur[:30], reponse.status_code)
            _sans_brut(reponse)
        assert client.put(url).status_code == 405, nom
    assert not client.session.get("otp_device_id")


def test_message_citant_un_nom_de_fichier_echappe(porteur, projet_adn):
    """The confirmation quotes the uploaded file's name: escaped, never markup
    (django-dsfr marks its components' content safe unless DSFR_CONTENT_IS_SAFE=False)."""
    nom = "<img src=x onerror=alert(1)>.pdf"
    fichier = SimpleUploadedFile(nom, PDF_MINIMAL, content_type="application/pdf")
    reponse = porteur.post(
        _section(projet_adn, "pieces"), {"type": "devis", "fichier": fichier}, follow=True
    )
    html = _texte(reponse)
    assert "ajoutée" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
