"""Authorisation (IDOR): every object URL tried with a user of another perimeter → 404.

- portal: the URL patterns of the portal and of comptes/ are enumerated from the resolver;
  each one taking an identifier is built with a dossier of Bassin d'Alès (Occitanie) and
  requested (GET and POST) by the lead of Ardèche-Drôme Nord and by the ARA officer;
- admin: every model registered in the back-office is classified; perimeter models are
  tried (change, history, delete) by the ARA officer on an Occitanie object;
- API: every detail endpoint, with a full-access token of an ARA officer (and with an
  Ardèche-Drôme Nord lead's session), on a non-public Occitanie object.

A URL pattern or admin model added later without being classified here fails the test
with a message saying what to add.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from comptes.models import ExportDiffere
from financements.models import Aide, Versement
from projets.models import Message, Projet, RevueRegionale
from territoires.models import Binome

from . import factories as f
from .api_outils import emettre, entete

# ---------------------------------------------------------------------------
# Portal: enumeration of the object URLs


def _motifs(resolver=None, prefixe="", espace=""):
    """(full name, regex of the route, kwarg names) of every pattern outside admin/ and api/."""
    resolver = resolver or get_resolver()
    for motif in resolver.url_patterns:
        if isinstance(motif, URLResolver):
            if motif.namespace in {"admin", "api"}:
                continue
            ns = f"{espace}{motif.namespace}:" if motif.namespace else espace
            yield from _motifs(motif, prefixe + str(motif.pattern), ns)
        elif isinstance(motif, URLPattern) and motif.name:
            noms = list(motif.pattern.regex.groupindex)
            yield f"{espace}{motif.name}", prefixe + str(motif.pattern), noms


# URL names taking an identifier that are not perimeter-bound, with the reason.
HORS_PERIMETRE = {
    "territoire_detail": "fiche publique d'un territoire (données ouvertes)",
    "mot_de_passe_nouveau": "lien signé de réinitialisation (uidb64 + jeton), sans périmètre",
    "comptes:invitation": "jeton secret d'invitation (404 si inconnu, 410 si périmé)",
}
# Perimeter-free objects reserved to a role: any other user is refused whatever the id.
RESERVES_A_UN_ROLE = {
    "comptes:demande": "demandes d'habilitation, communes à tous les administrateurs",
    # A partner's own webhook subscriptions: 404 for anyone else, leads and officers
    # included (tests/test_webhooks_partenaires.py).
    "webhook_modifier": "abonnements d'un partenaire, réservés à son titulaire",
    "webhook_secret": "abonnements d'un partenaire, réservés à son titulaire",
    "webhook_supprimer": "abonnements d'un partenaire, réservés à son titulaire",
}
# How to fill each kwarg with the foreign object (section is not an identifier).
KWARGS_CONNUS = {"reference", "uuid", "section", "pk"}
# The object URLs known today: the enumeration must find at least these.
CONNUES = {
    "dossier_detail",
    "dossier_section",
    "dossier_recapitulatif",
    "dossier_deposer",
    "dossier_abandonner",
    "piece_jointe_telecharger",
    "comptes:demande",
}

MOTIFS_OBJETS = sorted((nom, route, tuple(kwargs)) for nom, route, kwargs in _motifs() if kwargs)
A_TESTER = [m for m in MOTIFS_OBJETS if m[0] not in HORS_PERIMETRE | RESERVES_A_UN_ROLE.keys()]


def test_enumeration_des_adresses_objets_du_portail():
    noms = {nom for nom, _, _ in MOTIFS_OBJETS}
    assert noms >= CONNUES, f"adresses connues non trouvées : {CONNUES - noms}"
    inconnus = {
        nom: set(kwargs) - KWARGS_CONNUS
        for nom, _, kwargs in A_TESTER
        if set(kwargs) - KWARGS_CONNUS
    }
    assert not inconnus, (
        f"Nouvelles adresses à identifiant : {inconnus}. Indiquez dans KWARGS_CONNUS / "
        "_kwargs() comment construire l'identifiant d'un objet d'un autre périmètre, ou "
        "classez l'adresse dans HORS_PERIMETRE avec la raison."
    )
    assert len(A_TESTER) >= 6


@pytest.fixture
def etranger(monde, personas):
    """A complete dossier of Bassin d'Alès (Occitanie), with an attachment and a message."""
    projet = f.ProjetFactory(territoire=monde["ales"], phase=monde["phase"])
    projet.deposant = personas["porteur-ales"]
    Projet.objects.filter(pk=projet.pk).update(deposant=personas["porteur-ales"])
    Message.objects.create(projet=projet, auteur=personas["porteur-ales"], texte="Bonjour")
    return {"projet": projet, "piece": projet.pieces_jointes.get()}


def _kwargs(noms, etranger):
    valeurs = {
        "reference": etranger["projet"].reference,
        "uuid": str(etranger["piece"].uuid),
        "section": "porteur",
    }
    return {nom: valeurs[nom] for nom in noms}


def _empreinte(projet):
    projet = Projet.objects.get(pk=projet.pk)
    return (
        projet.statut,
        projet.titre,
        projet.porteur_raison_sociale,
        projet.pieces_jointes.count(),
        projet.messages.count(),
        projet.transitions.count(),
    )


@pytest.mark.parametrize(("nom", "route", "noms"), A_TESTER, ids=[m[0] for m in A_TESTER])
def test_adresse_objet_du_portail_hors_perimetre_repond_404(
    client, personas, etranger, nom, route, noms
):
    for utilisateur in ("porteur-adn", "region-ara"):
        client.force_login(personas[utilisateur])
        _essayer(client, etranger, nom, noms)


def _essayer(client, etranger, nom, noms):
    url = reverse(nom, kwargs=_kwargs(noms, etranger))
    avant = _empreinte(etranger["projet"])
    donnees = {
        "titre": "Piraté",
        "porteur_raison_sociale": "Piraté",
        "texte": "Piraté",
        "commentaire": "Piraté",
        "action": "enregistrer",
    }
    statuts = set()
    for methode in ("get", "post"):
        reponse = getattr(client, methode)(url, donnees)
        # 405: a method the page never takes (answered before any lookup, whatever the object).
        assert reponse.status_code in {404, 405}, (methode.upper(), url, reponse.status_code)
        assert etranger["projet"].titre not in reponse.content.decode(errors="replace")
        statuts.add(reponse.status_code)
    assert 404 in statuts, url
    assert _empreinte(etranger["projet"]) == avant


@pytest.mark.parametrize("nom", sorted(RESERVES_A_UN_ROLE))
@pytest.mark.parametrize("utilisateur", ["porteur-adn", "region-ara", "prefecture-07"])
def test_adresse_reservee_a_un_role_ne_revele_pas_l_existence(client, personas, nom, utilisateur):
    """Refused the same way for an existing and a nonexistent identifier (no oracle)."""
    from comptes.models import DemandeHabilitation

    demande = DemandeHabilitation.objects.create(
        user=f.UserFactory(username="inconnu"), email="inconnu@exemple.fr"
    )
    client.force_login(personas[utilisateur])
    existant = client.get(reverse(nom, kwargs={"pk": demande.pk}))
    absent = client.get(reverse(nom, kwargs={"pk": demande.pk + 1000}))
    assert existant.status_code == absent.status_code
    assert existant.status_code in {403, 404, 405}  # 405: a POST-only address
    assert client.post(reverse(nom, kwargs={"pk": demande.pk}), {"refuser": "1"}).status_code in {
        403,
        404,
    }
    demande.refresh_from_db()
    assert demande.statut == DemandeHabilitation.Statut.EN_ATTENTE


# ---------------------------------------------------------------------------
# Admin: every registered model, classified


# Models readable by every officer (no perimeter), with the reason.
ADMIN_SANS_PERIMETRE = {
    "territoires.Region": "référentiel officiel",
    "territoires.Departement": "référentiel officiel",
    "territoires.Intercommunalite": "référentiel officiel",
    "territoires.Commune": "référentiel officiel",
    "territoires.Phase": "référentiel du programme",
    "territoires.Axe": "référentiel du programme",
    "financements.Operateur": "opérateurs nationaux, publics",
    "financements.Dispositif": "dispositifs nationaux, publics",
}
# Models without perimeter reserved to a role the ARA instructor does not hold:
# refused (403 or 404) whatever the object.
ADMIN_RESERVES = {
    "auth.Group": "permissions Django, jamais accordées aux agents",
    "dsfr.DsfrConfig": "configuration du site",
    "auth.User": "équipe nationale seulement",
    "territoires.Habilitation": "équipe nationale seulement",
    "territoires.ImportTerritoires": "journal des imports de listes, équipe nationale seulement",
    "api.JetonPartenaire": "administrateurs nationaux seulement",
    "api.AbonnementWebhook": "abonnements des partenaires, équipe nationale seulement",
    "api.LivraisonWebhook": "journal des livraisons, équipe nationale seulement",
    "financements.AideNonPubliee": "rapport de publication SCDL, équipe nationale seulement",
    "comptes.DemandeHabilitation": "administrateurs seulement",
    "comptes.Invitation": "administrateurs seulement",
    "comptes.JournalHabilitation": "administrateurs seulement",
    "comptes.ProfilProConnect": "administrateurs seulement",
    "comptes.EvenementAudit": "administrateurs nationaux seulement",
    "django_tasks_database.DBTaskResult": "tâches de fond, jamais accordées aux agents",
}


def _objets_occitanie(monde, personas, etranger):
    """One object of each perimeter model, in Occitanie (outside the ARA perimeter)."""
    projet = etranger["projet"]
    enveloppe = f.EnveloppeFactory(region=monde["occ"])
    aide = f.AideFactory(enveloppe=enveloppe, projet=projet)
    versement = Versement.objects.create(aide=aide, montant=Decimal("1000"), date=date(2026, 1, 1))
    revue = RevueRegionale.objects.create(region=monde["occ"], date=date(2026, 1, 1))
    maintenant = timezone.now()
    # « Mes exports »: bound to its owner, an Occitanie officer here.
    export = ExportDiffere.objects.create(
        user=personas["region-occitanie"],
        ressource="projets.projet",
        intitule="dossiers",
        format="csv",
        lignes=1,
        expire_le=maintenant + timedelta(days=7),
    )
    binome = Binome.objects.create(
        territoire=monde["ales"],
        elu_nom="Élu",
        industriel_nom="Industriel",
        date_debut=date(2024, 1, 1),
    )
    return {
        "territoires.Territoire": monde["ales"],
        "territoires.Binome": binome,
        "projets.Projet": projet,
        "projets.RevueRegionale": revue,
        "projets.Message": Message.objects.filter(projet=projet).first(),
        "projets.PieceJointe": etranger["piece"],
        "financements.Enveloppe": enveloppe,
        "financements.Aide": aide,
        "financements.Versement": versement,
        "comptes.ExportDiffere": export,
    }


ADMIN_PERIMETRE = {
    "comptes.ExportDiffere",
    "territoires.Territoire",
    "territoires.Binome",
    "projets.Projet",
    "projets.RevueRegionale",
    "projets.Message",
    "projets.PieceJointe",
    "financements.Enveloppe",
    "financements.Aide",
    "financements.Versement",
}
MODELES_ADMIN = sorted(m._meta.label for m in admin.site._registry)


def test_tout_modele_de_l_administration_est_classe():
    classes = ADMIN_PERIMETRE | ADMIN_SANS_PERIMETRE.keys() | ADMIN_RESERVES.keys()
    nouveaux = set(MODELES_ADMIN) - classes
    assert not nouveaux, (
        f"Modèles enregistrés dans l'administration sans classement IDOR : {nouveaux}. "
        "Ajoutez-les à ADMIN_PERIMETRE (avec un objet d'Occitanie dans _objets_occitanie), "
        "ADMIN_SANS_PERIMETRE ou ADMIN_RESERVES, avec la raison."
    )
    assert not classes - set(MODELES_ADMIN), "modèle classé mais plus enregistré"


def _urls_admin(obj):
    opts = obj._meta
    base = f"admin:{opts.app_label}_{opts.model_name}"
    return {vue: reverse(f"{base}_{vue}", args=[obj.pk]) for vue in ("change", "history", "delete")}


@pytest.mark.parametrize("modele", sorted(ADMIN_PERIMETRE))
def test_administration_objet_hors_perimetre_repond_404(client, monde, personas, etranger, modele):
    obj = _objets_occitanie(monde, personas, etranger)[modele]
    assert obj._meta.label == modele
    client.force_login(personas["region-ara"])
    nombre = type(obj).objects.count()
    for vue, url in _urls_admin(obj).items():
        assert client.get(url).status_code == 404, (vue, url)
    # One past version of the object (django-simple-history), when the model keeps them.
    historique = getattr(type(obj), "history", None)
    if historique is not None:
        version = historique.filter(**{type(obj)._meta.pk.attname: obj.pk}).first()
        if version is not None:
            opts = obj._meta
            url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_simple_history",
                args=[obj.pk, version.history_id],
            )
            assert client.get(url).status_code == 404, url
            assert client.post(url, {}).status_code == 404, url
    # Deleting (confirmed) and saving through the change form are refused too.
    assert client.post(_urls_admin(obj)["delete"], {"post": "yes"}).status_code == 404
    assert client.post(_urls_admin(obj)["change"], {}).status_code in {403, 404}
    assert type(obj).objects.count() == nombre
    # The same officer sees the Occitanie object's twin in its own perimeter (sanity).
    client.force_login(personas["region-occitanie"])
    assert client.get(_urls_admin(obj)["change"]).status_code == 200


def test_administration_modele_reserve_refuse_a_l_instructeur_regional(client, monde, personas):
    """Refused (403) before any lookup: an existing and a missing id answer the same."""
    from django.contrib.auth.models import Group

    Group.objects.create(name="groupe")
    client.force_login(personas["region-ara"])
    for modele_admin in admin.site._registry:
        modele = modele_admin._meta.label
        if modele not in ADMIN_RESERVES:
            continue
        opts = modele_admin._meta
        obj = modele_admin.objects.first()
        for pk in ([obj.pk] if obj is not None else []) + [999999]:
            for vue in ("change", "history", "delete"):
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{vue}", args=[pk])
                assert client.get(url).status_code == 403, (vue, url)
            assert client.post(url, {"post": "yes"}).status_code == 403, url
    assert Group.objects.filter(name="groupe").exists()


def test_administration_objet_absent_repond_404_sans_redirection(client, personas):
    """A missing id in a model the user may see is a 404, never a redirect to the index."""
    client.force_login(personas["national"])
    for modele_admin in admin.site._registry:
        opts = modele_admin._meta
        for vue in ("change", "history", "delete"):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{vue}", args=[999999])
            assert client.get(url).status_code in {403, 404}, url


# ---------------------------------------------------------------------------
# API: every detail endpoint


def _api_detail_noms():
    return sorted(nom for nom, _, kwargs in _motifs_api() if nom.endswith("-detail") and kwargs)


def _motifs_api():
    for motif in get_resolver().url_patterns:
        if isinstance(motif, URLResolver) and motif.namespace == "api":
            yield from _motifs(motif, str(motif.pattern), "api:")


# Detail endpoints of reference or public data (no perimeter), with the reason.
API_SANS_PERIMETRE = {
    "api:webhook-detail": "abonnements du seul jeton appelant, 404 pour tout autre "
    "(tests/test_webhooks_partenaires.py)",
    "api:region-detail": "référentiel",
    "api:departement-detail": "référentiel",
    "api:intercommunalite-detail": "référentiel",
    "api:commune-detail": "référentiel",
    "api:phase-detail": "référentiel",
    "api:axe-detail": "référentiel",
    "api:territoire-detail": "territoires publics",
    "api:dispositif-detail": "dispositifs publics",
}
API_PERIMETRE = {
    "api:projet-detail",
    "api:enveloppe-detail",
    "api:aide-detail",
    "api:versement-detail",
}


def test_toute_adresse_de_detail_de_l_api_est_classee():
    noms = set(_api_detail_noms())
    assert noms >= API_PERIMETRE
    nouveaux = noms - API_PERIMETRE - API_SANS_PERIMETRE.keys()
    assert not nouveaux, (
        f"Nouvelles adresses de détail de l'API : {nouveaux}. Classez-les dans API_PERIMETRE "
        "(avec un objet non public d'Occitanie dans test_api_detail_hors_perimetre_repond_404) "
        "ou API_SANS_PERIMETRE avec la raison."
    )


@pytest.fixture
def non_publics_occitanie(monde, personas, etranger):
    """An Occitanie dossier under instruction, its proposed aide, a payment, an envelope."""
    projet = etranger["projet"]
    Projet.objects.filter(pk=projet.pk).update(statut="en_instruction")
    enveloppe = f.EnveloppeFactory(region=monde["occ"])
    aide = f.AideFactory(enveloppe=enveloppe, projet=projet)
    Aide.objects.filter(pk=aide.pk).update(statut="proposee")
    versement = Versement.objects.create(aide=aide, montant=Decimal("1000"), date=date(2026, 1, 1))
    enveloppe_id = f"{enveloppe.dispositif.code}-{enveloppe.region.code}-{enveloppe.annee}"
    return {
        "api:projet-detail": projet.reference,
        "api:enveloppe-detail": enveloppe_id,
        "api:aide-detail": str(aide.uuid),
        "api:versement-detail": str(versement.uuid),
    }


@pytest.mark.parametrize("nom", sorted(API_PERIMETRE))
def test_api_detail_hors_perimetre_repond_404(client, personas, non_publics_occitanie, nom):
    from django.core.cache import cache

    cache.clear()
    url = reverse(nom, args=[non_publics_occitanie[nom]])
    # The Occitanie officer does see it (the identifier is right).
    _, secret_occ = emettre(personas, personas["region-occitanie"])
    assert client.get(url, **entete(secret_occ)).status_code == 200, url
    # Full-access token of an ARA officer, anonymous, and a lead's session of another territory.
    _, secret_ara = emettre(personas, personas["region-ara"])
    reponse = client.get(url, **entete(secret_ara))
    assert reponse.status_code == 404, (url, reponse.status_code)
    assert reponse["Content-Type"].startswith("application/json")
    assert client.get(url).status_code in {401, 403, 404}
    client.force_login(personas["porteur-adn"])
    assert client.get(url).status_code in {403, 404}


def test_identifiants_croises_et_hostiles(client, personas, projet_adn, etranger):
    """Own dossier with a foreign attachment (and the reverse), hostile identifiers: 404."""
    client.force_login(personas["porteur-adn"])
    propre = projet_adn.pieces_jointes.get()
    for reference, uuid in [
        (projet_adn.reference, etranger["piece"].uuid),
        (etranger["projet"].reference, propre.uuid),
    ]:
        url = reverse("piece_jointe_telecharger", args=[reference, uuid])
        assert client.get(url).status_code == 404, url
    propre_url = reverse("piece_jointe_telecharger", args=[projet_adn.reference, propre.uuid])
    assert client.get(propre_url).status_code == 200
    for hostile in ["..%2F..%2Fetc%2Fpasswd", "%00", "' OR 1=1 --", "x" * 5000, "%ff"]:
        for url in (f"/dossiers/{hostile}/", f"/dossiers/{hostile}/modifier/porteur/"):
            assert client.get(url).status_code in {400, 404}, url[:80]
        for ressource in ("projets", "aides", "versements", "enveloppes", "territoires"):
            reponse = client.get(f"/api/v1/{ressource}/{hostile}/")
            # 403: envelopes need full access, refused before any lookup.
            assert reponse.status_code in {400, 403, 404}, (ressource, hostile[:30])
            assert reponse["Content-Type"].startswith("application/json")


def test_jeton_donnees_ouvertes_ne_voit_pas_un_dossier_non_public(
    client, personas, non_publics_occitanie
):
    """Same perimeter but an open-data token: non-public objects answer 404."""
    _, secret = emettre(personas, personas["region-occitanie"], niveau="opendata")
    for nom in ("api:projet-detail", "api:aide-detail", "api:versement-detail"):
        url = reverse(nom, args=[non_publics_occitanie[nom]])
        assert client.get(url, **entete(secret)).status_code == 404, url
