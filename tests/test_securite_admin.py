"""Hostile values in the back-office: search, filters, and every add or change form."""

import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.db import models, transaction
from django.test import RequestFactory
from django.urls import reverse

from api.models import JetonPartenaire
from api.services import jeton_emettre
from projets.models import AvisRevue, Projet, RevueRegionale, Statut
from territoires.models import Binome

from . import factories as f

XSS = '"><script>alert(1)</script>'
SQL = "' OR 1=1 --"
HOSTILES = [XSS, SQL, "x" * 5000, "%00", "a\x00b", "\u202e"]

ADMIN_LISTES = [
    "/admin/projets/projet/",
    "/admin/financements/aide/",
    "/admin/territoires/territoire/",
    "/admin/financements/enveloppe/",
]


def _formulaires(contexte) -> list:
    """The main form of an admin page and the saved rows of its inlines."""
    formulaires = [contexte["adminform"].form]
    for inline in contexte["inline_admin_formsets"]:
        formulaires += [f for f in inline.formset.forms if f.instance.pk]
    return formulaires


def _donnees_du_formulaire(contexte) -> dict:
    """What the browser would post back unchanged: the main form and each inline's
    management form and rows."""
    donnees = {}
    for inline in contexte["inline_admin_formsets"]:
        gestion = inline.formset.management_form
        donnees.update({gestion.add_prefix(nom): valeur for nom, valeur in gestion.initial.items()})
    for formulaire in _formulaires(contexte):
        for nom, champ in formulaire.fields.items():
            valeur = formulaire.initial.get(nom, champ.initial)
            if isinstance(champ, forms.FileField):
                continue  # a file is posted as a file, and none is needed
            if isinstance(champ, forms.JSONField):
                valeur = champ.prepare_value(valeur() if callable(valeur) else valeur)
            if hasattr(valeur, "pk"):
                valeur = valeur.pk
            if valeur is None:
                continue
            if isinstance(valeur, list | tuple):
                valeur = [getattr(v, "pk", v) for v in valeur]
            if isinstance(champ.widget, forms.MultiWidget):  # date and time: nom_0, nom_1
                for i, partie in enumerate(champ.widget.decompress(valeur)):
                    donnees[f"{formulaire.add_prefix(nom)}_{i}"] = partie
                continue
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
        # Django answers an unknown filter value by redirecting with ?e=1, a NUL byte is a
        # 400: never a 500.
        assert reponse.status_code in {200, 302, 400}, (url, parametres)
        if reponse.status_code == 200:
            assert "<script>alert(1)</script>" not in reponse.content.decode()


def test_octet_nul_dans_l_adresse_page_400_en_francais(agent, projet_adn):
    """PostgreSQL refuses NUL bytes in text: the back-office answers the French 400
    page before any search or filter reaches the database."""
    for parametres in ("q=a%00b", "statut__exact=retenu%00"):
        reponse = agent.get(f"/admin/projets/projet/?{parametres}")
        assert reponse.status_code == 400
        assert "Requête invalide" in reponse.content.decode()


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


# ---------------------------------------------------------------------------
# Every form an officer can submit (issue: hostile input on the back-office forms)
#
# Each model admin whose add or change form the national administrator or a regional
# instructor may submit is listed below with who submits it, the object its change form
# edits and the smallest valid data of its add form. A model that becomes editable
# fails `test_chaque_formulaire_modifiable_est_classe` until it is listed here.
# Every hostile submission runs in a savepoint rolled back afterwards: one form's
# accepted value never disturbs the next attempt.

SCRIPT = "<script>alert(1)</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
XSS_DOUBLE = IMAGE + SCRIPT
BRUTS = [SCRIPT, "<img src=x onerror=alert(1)>"]
NUL = "a\x00b"
MALFORMES = ["1e999", "abc", "2026-13-45", "12345678901234567890", "-1"]
MOTS_FRANCAIS = re.compile(
    r"Saisissez|Assurez-vous|Sélectionnez|caractère nul|n’est pas|n'est pas|doit|"
    r"contrainte|invalide|ne peut|existe déjà|obligatoire|chiffres|correspond",
    re.IGNORECASE,
)
PERSONAS_ADMIN = ("national", "region-ara")


@dataclass(frozen=True)
class Formulaire:
    ajout: str | None  # persona submitting the add form (None: no add form)
    modification: str | None  # persona submitting the change form
    objet: Callable | None = None  # fixture getter -> the object the change form edits
    donnees_ajout: Callable | None = None  # fixture getter -> valid add data


def _monde(fx):
    return fx("monde")


def _binome(fx):
    return Binome.objects.create(
        territoire=_monde(fx)["adn"],
        elu_nom="Marie Curie",
        elu_mandat="Maire",
        industriel_nom="Jean Dupont",
        industriel_entreprise="Ateliers du Vivarais",
        date_debut=date(2024, 1, 1),
    )


def _revue(fx):
    revue = RevueRegionale.objects.create(
        region=_monde(fx)["ara"],
        date=date(2026, 2, 1),
        conseil_regional="Région Auvergne-Rhône-Alpes",
        prefecture_region="Préfecture de la région Auvergne-Rhône-Alpes",
    )
    AvisRevue.objects.create(
        revue=revue, projet=fx("projet_adn"), avis=AvisRevue.Avis.choices[0][0]
    )
    return revue


def _enveloppe_ara(fx):
    monde = _monde(fx)
    return f.EnveloppeFactory(region=monde["ara"], dispositif__phase=monde["phase"])


def _projet_retenu(fx):
    monde = _monde(fx)
    return f.ProjetFactory(territoire=monde["adn"], phase=monde["phase"], statut=Statut.RETENU)


def _jeton(fx):
    personas = fx("personas")
    jeton = JetonPartenaire(user=personas["partenaire-bpi"], nom="Jeton BPI", niveau="complet")
    jeton_emettre(par=personas["national"], jeton=jeton)
    return jeton


def _abonnement(fx):
    from api.services import abonnement_creer

    abonnement, _ = abonnement_creer(
        par=fx("personas")["national"],
        jeton=_jeton(fx),
        url="https://partenaire.example/webhooks",
        evenements=["projet.creation"],
    )
    return abonnement


FORMULAIRES = {
    "territoires.region": Formulaire(None, "national", lambda fx: _monde(fx)["ara"]),
    "territoires.departement": Formulaire(None, "national", lambda fx: _monde(fx)["d07"]),
    "territoires.intercommunalite": Formulaire(None, "national", lambda fx: _monde(fx)["epci_07"]),
    "territoires.commune": Formulaire(None, "national", lambda fx: _monde(fx)["commune_07"]),
    "territoires.phase": Formulaire(
        "national",
        "national",
        lambda fx: _monde(fx)["phase"],
        lambda fx: {
            "code": "2028-2032",
            "nom": "Phase suivante",
            "date_debut": "2028-01-01",
            "date_fin": "2032-12-31",
        },
    ),
    "territoires.axe": Formulaire(None, "national", lambda fx: _monde(fx)["axes"][0]),
    "territoires.territoire": Formulaire(
        "national",
        "region-ara",
        lambda fx: _binome(fx).territoire,
        lambda fx: {"nom": "Nouveau territoire", "slug": "nouveau", "region_pilote": "84"},
    ),
    "territoires.binome": Formulaire(
        "region-ara",
        "region-ara",
        _binome,
        lambda fx: {
            "territoire": _monde(fx)["adn"].pk,
            "elu_nom": "Marie Curie",
            "elu_mandat": "Maire",
            "industriel_nom": "Jean Dupont",
            "industriel_entreprise": "Ateliers du Vivarais",
            "date_debut": "2024-01-01",
        },
    ),
    "territoires.habilitation": Formulaire(
        "national",
        "national",
        lambda fx: fx("personas")["region-occitanie"].habilitation,
        lambda fx: {
            "user": f.UserFactory(username="sans-habilitation").pk,
            "role": "agent",
            "echelon": "national",
            "niveau": "1",
        },
    ),
    "auth.user": Formulaire(
        "national",
        "national",
        lambda fx: fx("personas")["region-occitanie"],
        lambda fx: {
            "username": "nouvel-agent",
            "password1": "Un-mot-de-passe-solide-2026",
            "password2": "Un-mot-de-passe-solide-2026",
            "usable_password": "true",
        },
    ),
    "projets.projet": Formulaire(
        "region-ara",
        "region-ara",
        lambda fx: fx("projet_adn"),
        lambda fx: {
            "territoire": _monde(fx)["adn"].pk,
            "phase": _monde(fx)["phase"].pk,
            "titre": "Nouvelle usine",
        },
    ),
    "projets.revueregionale": Formulaire(
        "region-ara",
        "region-ara",
        _revue,
        lambda fx: {
            "region": "84",
            "date": "2026-03-01",
            "intitule": "Revue de mars",
            "conseil_regional": "Région Auvergne-Rhône-Alpes",
            "prefecture_region": "Préfecture de la région Auvergne-Rhône-Alpes",
        },
    ),
    "financements.operateur": Formulaire(
        "national",
        "national",
        lambda fx: f.OperateurFactory(),
        lambda fx: {"nom": "Bpifrance", "type": "operateur"},
    ),
    "financements.dispositif": Formulaire(
        "national",
        "national",
        lambda fx: f.DispositifFactory(phase=_monde(fx)["phase"]),
        lambda fx: {
            "nom": "Fonds vert",
            "code": "fonds-vert",
            "operateur": f.OperateurFactory().pk,
            "natures": '["subvention"]',
            "montant_national": "1000000.00",
            "date_debut": "2026-01-01",
        },
    ),
    "financements.enveloppe": Formulaire(
        "national",
        "national",
        _enveloppe_ara,
        lambda fx: {
            "dispositif": f.DispositifFactory(phase=_monde(fx)["phase"]).pk,
            "region": "84",
            "annee": "2026",
            "montant": "500000.00",
        },
    ),
    "financements.aide": Formulaire(
        "region-ara",
        "region-ara",
        lambda fx: f.AideFactory(enveloppe=_enveloppe_ara(fx), projet=_projet_retenu(fx)),
        lambda fx: {
            "enveloppe": _enveloppe_ara(fx).pk,
            "projet": _projet_retenu(fx).pk,
            "montant": "1000.00",
            "nature": "subvention",
        },
    ),
    "api.jetonpartenaire": Formulaire(
        "national",
        "national",
        _jeton,
        lambda fx: {
            "user": fx("personas")["partenaire-bpi"].pk,
            "nom": "Jeton de test",
            "niveau": "complet",
        },
    ),
    "api.abonnementwebhook": Formulaire(
        "national",
        "national",
        _abonnement,
        lambda fx: {
            "jeton": _jeton(fx).pk,
            "url": "https://partenaire.example/webhooks",
            "evenements": '["projet.creation", "aide.annulation"]',
        },
    ),
}

SOUMISSIONS = [
    pytest.param(label, mode, id=f"{label}-{mode}")
    for label, formulaire in FORMULAIRES.items()
    for mode in ("ajout", "modification")
    if getattr(formulaire, mode)
]


def _permissions(model_admin, user):
    requete = RequestFactory().get("/admin/")
    requete.user = user
    return {
        "ajout": model_admin.has_add_permission(requete),
        "modification": model_admin.has_change_permission(requete),
    }


def test_chaque_formulaire_modifiable_est_classe(personas):
    """Every model admin some officer may add to or change is listed in FORMULAIRES,
    with a persona allowed to submit it; nothing listed is out of reach."""
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        droits = {p: _permissions(model_admin, personas[p]) for p in PERSONAS_ADMIN}
        formulaire = FORMULAIRES.get(label)
        for mode in ("ajout", "modification"):
            autorises = [p for p in PERSONAS_ADMIN if droits[p][mode]]
            declare = getattr(formulaire, mode, None)
            assert bool(autorises) == bool(declare), (
                f"{label} ({mode}) : classez ce formulaire dans FORMULAIRES "
                f"(autorisé à {autorises or 'personne'})"
            )
            assert declare is None or declare in autorises, (label, mode, declare)


@dataclass
class Essai:
    """One hostile form: where it is, who posts it and what it holds."""

    client: object
    modele: type
    url: str
    objet: object
    donnees: dict
    formulaires: list

    def champs(self, *types):
        """(posted name, form field) of every field of these types, inlines included."""
        return [
            (formulaire.add_prefix(nom), champ)
            for formulaire in self.formulaires
            for nom, champ in formulaire.fields.items()
            if isinstance(champ, types)
        ]

    def photo(self):
        """Every row of the model and of its inlines' models."""
        modeles = {self.modele, *(i.model for i in admin.site._registry[self.modele].inlines)}
        return {m: list(m.objects.order_by("pk").values()) for m in modeles}

    def poster(self, champs: dict):
        """Post the form with these values replaced (a multi-widget field gets the value
        in each part); return (response, object created or changed, or None)."""
        donnees = dict(self.donnees)
        widgets = {
            f.add_prefix(nom): champ.widget
            for f in self.formulaires
            for nom, champ in f.fields.items()
        }
        for nom, valeur in champs.items():
            widget = widgets.get(nom)
            if isinstance(widget, forms.MultiWidget):
                donnees.update({f"{nom}_{i}": valeur for i in range(len(widget.widgets))})
            else:
                donnees[nom] = valeur
        avant = set(self.modele.objects.values_list("pk", flat=True))
        reponse = self.client.post(self.url, donnees)
        assert reponse.status_code != 500
        nouveaux = self.modele.objects.exclude(pk__in=avant)
        return reponse, self.objet or nouveaux.first()

    def erreurs(self, reponse, nom) -> list[str]:
        """The messages shown for a field (or the whole form) after a refusal."""
        if reponse.status_code != 200 or "adminform" not in (reponse.context or {}):
            return []  # not the form again (the token's one-time secret page)
        formulaires = _formulaires(reponse.context)
        messages = [str(e) for f in formulaires for e in f.non_field_errors()]
        messages += [
            str(e)
            for f in formulaires
            for champ, liste in f.errors.items()
            if nom is None or f.add_prefix(champ) == nom
            for e in liste
        ]
        return messages


@pytest.fixture
def essai(request, client, personas, projet_adn):
    """Opens a form as its persona (shared fixtures created first, outside savepoints)."""

    def ouvrir(label, mode):
        formulaire = FORMULAIRES[label]
        modele = apps.get_model(label)
        client.force_login(personas[getattr(formulaire, mode)])
        info = (modele._meta.app_label, modele._meta.model_name)
        if mode == "ajout":
            url, objet = reverse("admin:{}_{}_add".format(*info)), None
        else:
            objet = formulaire.objet(request.getfixturevalue)
            url = reverse("admin:{}_{}_change".format(*info), args=[objet.pk])
        page = client.get(url)
        assert page.status_code == 200, (label, mode)
        donnees = _donnees_du_formulaire(page.context)
        if mode == "ajout":
            donnees.update(formulaire.donnees_ajout(request.getfixturevalue))
        return Essai(client, modele, url, objet, donnees, _formulaires(page.context))

    return ouvrir


@contextmanager
def _annule():
    """Run a submission in a savepoint rolled back afterwards."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _refus_sans_trace(essai, reponse, nom, photo, motif=MOTS_FRANCAIS):
    nom, valeur = nom if isinstance(nom, tuple) else (nom, None)
    assert reponse.status_code in {200, 400}, (nom, valeur, reponse.status_code)
    if reponse.status_code == 200:
        # The message sits on the field, or on another one (password confirmation).
        messages = essai.erreurs(reponse, nom) or essai.erreurs(reponse, None)
        assert messages and any(motif.search(m) for m in messages), (nom, valeur, messages)
    assert essai.photo() == photo, (nom, valeur)


def _sur_chaque_formulaire(verifier, essai, *args):
    """One test per kind of hostility over every form: the shared fixtures are built
    once, each form's attempts rolled back before the next form."""
    for label, mode in [s.values for s in SOUMISSIONS]:
        with _annule():
            verifier(essai, *args, label, mode)


def test_formulaires_valides_tels_quels(essai):
    """The base data of each form is accepted (else the hostile tests prove nothing)."""
    for label, mode in [s.values for s in SOUMISSIONS]:
        with _annule():
            formulaire = essai(label, mode)
            reponse, objet = formulaire.poster({})
            # A service refusal redirects back to the form with a message.
            refuse = reponse.get("Location") == formulaire.url
            assert not (formulaire.erreurs(reponse, None) or refuse) and objet is not None, (
                label,
                mode,
                formulaire.erreurs(reponse, None),
            )


def test_xss_refusee_ou_affichee_echappee(essai):
    _sur_chaque_formulaire(_xss_refusee_ou_affichee_echappee, essai)


def _xss_refusee_ou_affichee_echappee(essai, label, mode):
    """Both payloads in one value, field by field: refused, or stored and shown escaped."""
    formulaire = essai(label, mode)
    opts = formulaire.modele._meta
    for nom, _champ in formulaire.champs(forms.CharField):
        with _annule():
            photo = formulaire.photo()
            reponse, objet = formulaire.poster({nom: XSS_DOUBLE})
            if formulaire.photo() == photo:
                _refus_sans_trace(formulaire, reponse, nom, photo)
                pages = [reponse]
            else:
                pages = [
                    formulaire.client.get(
                        reverse(f"admin:{opts.app_label}_{opts.model_name}_{vue}", args=args)
                    )
                    for vue, args in (("changelist", []), ("change", [objet.pk]))
                ]
            for page in pages:
                assert not any(b in page.content.decode() for b in BRUTS), (nom, page)


def _refus_champ_par_champ(formulaire, champs, valeur, motif=MOTS_FRANCAIS):
    """One post with `valeur` in every field given: each one refused, nothing stored."""
    if not champs:
        return
    with _annule():
        photo = formulaire.photo()
        reponse, _ = formulaire.poster(dict.fromkeys(champs, valeur))
        for nom in champs:
            _refus_sans_trace(formulaire, reponse, (nom, valeur), photo, motif)


def test_texte_trop_long_refuse(essai):
    _sur_chaque_formulaire(_texte_trop_long_refuse, essai)


def _texte_trop_long_refuse(essai, label, mode):
    formulaire = essai(label, mode)
    champs = [nom for nom, champ in formulaire.champs(forms.CharField) if champ.max_length]
    _refus_champ_par_champ(formulaire, champs, "x" * 5000, re.compile("au plus"))


def test_caractere_nul_refuse(essai):
    _sur_chaque_formulaire(_caractere_nul_refuse, essai)


def _caractere_nul_refuse(essai, label, mode):
    formulaire = essai(label, mode)
    champs = [nom for nom, _ in formulaire.champs(forms.CharField)]
    _refus_champ_par_champ(formulaire, champs, NUL, re.compile("caractère nul|JSON"))


NOMBRES = (forms.IntegerField, forms.DecimalField, forms.FloatField)
DATES = (forms.DateField, forms.DateTimeField, forms.SplitDateTimeField)


def test_nombres_et_dates_malformes_refuses(essai):
    _sur_chaque_formulaire(_nombres_et_dates_malformes_refuses, essai)


def _nombres_et_dates_malformes_refuses(essai, label, mode):
    """Malformed, huge or negative numbers and dates (every amount here is positive)."""
    formulaire = essai(label, mode)
    champs = [nom for nom, _ in formulaire.champs(*NOMBRES, *DATES)]
    for valeur in MALFORMES:
        _refus_champ_par_champ(formulaire, champs, valeur)
    nombres = [nom for nom, _ in formulaire.champs(*NOMBRES)]
    if not nombres:
        return
    with _annule():  # « -0 »: refused, or stored as a plain zero
        photo = formulaire.photo()
        reponse, objet = formulaire.poster(dict.fromkeys(nombres, "-0"))
        if formulaire.photo() != photo:
            stocke = type(objet).objects.values().get(pk=objet.pk)
            for nom in set(nombres) & set(stocke):
                assert str(stocke[nom]) in {"0", "0.00", "None"}, (nom, stocke[nom])


def _valeur_interdite(champ_modele, actuelle, user):
    """A plausible value for a field the form does not offer, different from the stored
    one (None when there is no such value to try)."""
    if champ_modele.is_relation:
        autre = champ_modele.related_model.objects.exclude(pk__in=[actuelle, user.pk]).last()
        return autre and autre.pk
    if champ_modele.choices:
        autres = [c for c, _ in champ_modele.flatchoices if c != actuelle]
        return autres[-1] if autres else None
    if isinstance(champ_modele, models.BooleanField):
        return None if actuelle or champ_modele.default else "on"
    exemples = {
        models.DateTimeField: "2001-02-03 04:05:06",
        models.DateField: "2001-02-03",
        models.DecimalField: "7",
        models.IntegerField: "7",
        models.JSONField: '{"pirate": 1}',
        models.UUIDField: "12345678-1234-5678-1234-567812345678",
        models.CharField: "PIRATE-1",
        models.TextField: "PIRATE-1",
    }
    for type_, valeur in exemples.items():
        if isinstance(champ_modele, type_):
            return valeur
    return None


def test_champs_absents_ou_en_lecture_seule_ignores(essai, personas):
    _sur_chaque_formulaire(_champs_absents_ou_en_lecture_seule_ignores, essai, personas)


def _champs_absents_ou_en_lecture_seule_ignores(essai, personas, label, mode):
    """Mass assignment: values posted for fields the form does not offer (status,
    reference, digests, timestamps, another owner) never reach the database."""
    formulaire = essai(label, mode)
    offerts = set(formulaire.formulaires[0].fields)
    user = personas[getattr(FORMULAIRES[label], mode)]
    actuel = formulaire.objet
    interdits = {}
    for champ in formulaire.modele._meta.concrete_fields:
        if champ.primary_key or champ.name in offerts or getattr(champ, "auto_now", False):
            continue
        courante = champ.value_from_object(actuel) if actuel else None
        valeur = _valeur_interdite(champ, courante, user)
        if valeur is not None:
            interdits[champ] = valeur
    with _annule():
        avant = formulaire.modele.objects.filter(pk=getattr(actuel, "pk", None)).values().first()
        reponse, objet = formulaire.poster({c.name: v for c, v in interdits.items()})
        assert objet is not None and not formulaire.erreurs(reponse, None), label
        apres = formulaire.modele.objects.values().get(pk=objet.pk)
        for champ, valeur in interdits.items():
            if avant is not None:
                assert apres[champ.attname] == avant[champ.attname], champ.name
            else:
                poste = valeur == "on" or champ.to_python(valeur)
                assert apres[champ.attname] != poste, champ.name
