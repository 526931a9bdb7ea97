"""The changes feed (`/api/v1/changements/`): every change of dossiers, aids, payments and
envelopes in order, with tombstones, so that a mirror can be kept exact by polling.

Read from the history tables django-simple-history already writes for each save (no
second journal to keep in step). Each entry names the resource by its official
identifier and says what happened:
- `creation`, `modification`;
- `sortie`: the dossier left the caller's view (open data: it is no longer retained, in
  progress or completed — abandoned, for instance): the mirror drops it and its aids;
- `annulation`: the aid was cancelled: the mirror drops it (and its payments).

Scope: open data (anonymous or open-data token) sees changes of public dossiers, of
engaged aids on public dossiers and their payments, and the tombstones of those that
left; a full-access token or signed-in officer sees every change within its perimeter.

Order and cursor: (date, resource rank, history row id), strictly increasing; the
response's `curseur` resumes after its last entry (also when the page is empty), so a
poller just sends back the last `curseur` it got.
"""

import base64
import binascii
from datetime import datetime

from django.db.models import OuterRef, Q, Subquery
from rest_framework import exceptions

from financements.models import Aide, Enveloppe, Versement
from projets.models import STATUTS_PUBLICS, Projet

TAILLE_PAGE = 200
TAILLE_MAX = 1000
PARAMETRES = frozenset({"depuis", "curseur", "page_size", "format"})
TYPES = {"+": "creation", "~": "modification", "-": "suppression"}


def _avant(historique, champ: str):
    """The previous history row's `champ` (None for the first row of an object)."""
    return Subquery(
        historique.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        .order_by("-history_id")
        .values(champ)[:1]
    )


class Source:
    """One history table of the feed."""

    ressource: str
    modele = None
    adresse = ""

    def __init__(self, rang: int):
        self.rang = rang
        self.historique = self.modele.history.model

    def lignes(self, acces):
        raise NotImplementedError

    def identifiant(self, ligne) -> str:
        raise NotImplementedError

    def evenement(self, ligne, acces) -> str:
        return TYPES[ligne.history_type]


class SourceProjet(Source):
    ressource = "projet"
    modele = Projet
    adresse = "/api/v1/projets/{}/"

    def lignes(self, acces):
        lignes = self.historique.objects.annotate(statut_avant=_avant(self.historique, "statut"))
        if acces.complet:
            return lignes.filter(id__in=Projet.objects.visibles_par(acces.user).values("pk"))
        publics = list(STATUTS_PUBLICS)
        return lignes.filter(Q(statut__in=publics) | Q(statut_avant__in=publics))

    def identifiant(self, ligne):
        return ligne.reference

    def evenement(self, ligne, acces):
        if not acces.complet:
            if ligne.statut not in STATUTS_PUBLICS:
                return "sortie"
            if ligne.statut_avant not in STATUTS_PUBLICS:
                return "creation"  # entered the public set
        return super().evenement(ligne, acces)


class SourceAide(Source):
    ressource = "aide"
    modele = Aide
    adresse = "/api/v1/aides/{}/"

    def lignes(self, acces):
        lignes = self.historique.objects.annotate(statut_avant=_avant(self.historique, "statut"))
        if acces.complet:
            return lignes.filter(id__in=Aide.objects.visibles_par(acces.user).values("pk"))
        engagees = list(Aide.STATUTS_ENGAGES)
        # Engaged aids of dossiers public now, and the tombstone of any public aid that
        # stopped being engaged (cancelled), whatever its dossier became since.
        return lignes.filter(
            Q(statut__in=engagees, projet__statut__in=list(STATUTS_PUBLICS))
            | (Q(statut_avant__in=engagees) & ~Q(statut__in=engagees))
        )

    def identifiant(self, ligne):
        return str(ligne.uuid)

    def evenement(self, ligne, acces):
        if ligne.statut == Aide.Statut.ANNULEE:
            return "annulation"
        if not acces.complet and ligne.statut_avant not in Aide.STATUTS_ENGAGES:
            return "creation"  # became public when engaged
        return super().evenement(ligne, acces)


class SourceVersement(Source):
    ressource = "versement"
    modele = Versement
    adresse = "/api/v1/versements/{}/"

    def lignes(self, acces):
        lignes = self.historique.objects.all()
        if acces.complet:
            return lignes.filter(id__in=Versement.objects.visibles_par(acces.user).values("pk"))
        return lignes.filter(aide_id__in=Aide.objects.publiques().values("pk"))

    def identifiant(self, ligne):
        return str(ligne.uuid)


class SourceEnveloppe(Source):
    ressource = "enveloppe"
    modele = Enveloppe
    adresse = "/api/v1/enveloppes/{}/"

    def lignes(self, acces):
        return self.historique.objects.filter(
            id__in=Enveloppe.objects.visibles_par(acces.user).values("pk")
        ).select_related("dispositif")

    def identifiant(self, ligne):
        return f"{ligne.dispositif.code}-{ligne.region_id}-{ligne.annee}"


SOURCES = [SourceProjet(0), SourceAide(1), SourceVersement(2), SourceEnveloppe(3)]


def coder_curseur(date: datetime, rang: int, history_id: int) -> str:
    brut = f"{date.isoformat()}|{rang}|{history_id}".encode()
    return base64.urlsafe_b64encode(brut).decode().rstrip("=")


def decoder_curseur(curseur: str) -> tuple[datetime, int, int]:
    try:
        brut = base64.urlsafe_b64decode(curseur + "=" * (-len(curseur) % 4)).decode()
        texte_date, rang, history_id = brut.split("|")
        date = datetime.fromisoformat(texte_date)
        return date, int(rang), int(history_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise exceptions.ValidationError(
            {"curseur": ["Curseur invalide : renvoyez le « curseur » d'une réponse précédente."]}
        ) from exc


def _apres(source: Source, position) -> Q:
    date, rang, history_id = position
    if source.rang > rang:
        return Q(history_date__gte=date)
    if source.rang < rang:
        return Q(history_date__gt=date)
    return Q(history_date__gt=date) | Q(history_date=date, history_id__gt=history_id)


def changements(acces, *, depuis=None, position=None, taille=TAILLE_PAGE):
    """(entries, next position or None, has more) for `acces` after `position`."""
    candidats = []
    for source in SOURCES:
        lignes = source.lignes(acces)
        if depuis is not None:
            lignes = lignes.filter(history_date__gte=depuis)
        if position is not None:
            lignes = lignes.filter(_apres(source, position))
        for ligne in lignes.order_by("history_date", "history_id")[: taille + 1]:
            candidats.append((ligne.history_date, source.rang, ligne.history_id, source, ligne))
    candidats.sort(key=lambda c: c[:3])
    page, encore = candidats[:taille], len(candidats) > taille
    entrees = []
    for date, _rang, _history_id, source, ligne in page:
        identifiant = source.identifiant(ligne)
        evenement = source.evenement(ligne, acces)
        entrees.append(
            {
                "date": date.isoformat(),
                "ressource": source.ressource,
                "identifiant": identifiant,
                "evenement": evenement,
                "statut": getattr(ligne, "statut", None),
                "adresse": (
                    None
                    if evenement in ("sortie", "annulation", "suppression")
                    else source.adresse.format(identifiant)
                ),
            }
        )
    dernier = (page[-1][0], page[-1][1], page[-1][2]) if page else position
    return entrees, dernier, encore
