"""Public portal (programme, territories) and the territory leads' space (dossiers).

Views stay thin: they read through queryset methods, validate with forms and
write through `projets.services` only.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from commun.cache_donnees import memoriser
from commun.pdf import pdf
from financements.chiffres import chiffres_territoire
from financements.models import Aide, projets_avec_financements, territoires_avec_totaux
from projets import services
from projets.models import ATTESTATION, PieceJointe, Projet, Statut, zonage_rural_en_vigueur
from territoires.models import (
    CommuneTerritoire,
    CompositionTerritoire,
    Habilitation,
    Labellisation,
    Territoire,
)
from territoires.perimetre import est_agent, est_porteur, habilitation_de

from . import chiffres
from .forms import (
    SECTIONS,
    AbandonForm,
    FiltreTerritoiresForm,
    MessageForm,
    NouveauDossierForm,
    PieceJointeForm,
    RemplacementPieceForm,
    RenvoiForm,
)

TERRITOIRES_PAR_PAGE = 20
# Portal lists a territory may fill with thousands of dossiers: paginated (issue 22).
DOSSIERS_PAR_PAGE = 20

# Pages answer GET/HEAD, forms also POST: any other method is a 405, never a page.
formulaire = require_http_methods(["GET", "HEAD", "POST"])

# What the lead has to do next, by status.
ETAPE_SUIVANTE = {
    Statut.BROUILLON: "Compléter puis déposer le dossier",
    Statut.DEPOSE: "Attendre la prise en charge par l'instructeur",
    Statut.EN_INSTRUCTION: "Attendre la décision ; répondre aux messages éventuels",
    Statut.A_COMPLETER: "Apporter les compléments demandés puis renvoyer le dossier",
    Statut.RETENU: "Préparer le démarrage du projet",
    Statut.EN_COURS: "Suivre la réalisation du projet",
}

BADGE_STATUT = {
    Statut.BROUILLON: "new",
    Statut.A_COMPLETER: "warning",
    Statut.RETENU: "success",
    Statut.EN_COURS: "success",
    Statut.REALISE: "success",
    Statut.REFUSE: "error",
    Statut.DEPOSE: "info",
    Statut.EN_INSTRUCTION: "info",
}


def fil_ariane(actuel: str, *liens: tuple[str, str]) -> dict:
    return {"links": [{"url": url, "title": titre} for url, titre in liens], "current": actuel}


# ---------------------------------------------------------------------------
# Public pages


@require_safe
def accueil(request):
    phase = chiffres.phase_en_cours()
    # Aggregates over every public dossier: kept until the next write.
    regions = memoriser("accueil-regions", None, chiffres.par_region, DUREE_CHIFFRES)
    axes = memoriser(
        "accueil-axes", phase and phase.pk, lambda: chiffres.par_axe(phase), DUREE_CHIFFRES
    )
    graphique_regions = {
        "libelles": [r["nom"] for r in regions],
        "dossiers": [r["nombre_projets"] for r in regions],
        "investissement_millions": [
            round(float(r["investissement"] or 0) / 1e6, 1) for r in regions
        ],
    }
    graphique_axes = {"libelles": [a.nom for a in axes], "dossiers": [a.dossiers for a in axes]}
    cles = memoriser("accueil-chiffres", None, chiffres.chiffres_cles, DUREE_CHIFFRES)
    graphique_dispositifs = {
        "libelles": [d["nom"] for d in cles["par_dispositif"]],
        "aide_millions": [round(float(d["aide_signee"]) / 1e6, 2) for d in cles["par_dispositif"]],
    }
    return render(
        request,
        "portail/accueil.html",
        {
            "title": "Accueil",
            "chiffres": cles,
            "graphique_dispositifs": graphique_dispositifs,
            "phase": phase,
            "regions": regions,
            "axes": axes,
            "graphique_regions": graphique_regions,
            "graphique_axes": graphique_axes,
        },
    )


DUREE_CHIFFRES = 300


def _nombre(queryset, champ):
    """A correlated count of distinct `champ` over `queryset` (0 when empty)."""
    compte = (
        queryset.order_by()
        .values(cle=Value(1))
        .annotate(n=Count(champ, distinct=True))
        .values("n")[:1]
    )
    return Coalesce(Subquery(compte, output_field=IntegerField()), 0)


@require_safe
def territoires(request):
    filtres = FiltreTerritoiresForm(request.GET or None)
    liste = filtres.filtrer(
        Territoire.objects.select_related("region_pilote")
        .annotate(
            # Subqueries, not joins: joining compositions and dossiers multiplied rows.
            nombre_epci=_nombre(
                CompositionTerritoire.objects.filter(
                    territoire=OuterRef("pk"), date_sortie__isnull=True
                ),
                "epci",
            ),
            dossiers_retenus=_nombre(
                Projet.objects.publics().filter(territoire=OuterRef("pk")), "pk"
            ),
        )
        .order_by("nom")
    )
    page = Paginator(liste, TERRITOIRES_PAR_PAGE).get_page(request.GET.get("page"))
    # Départements of the page's territories (their extent: declared, EPCI seats,
    # member communes), in three queries.
    ids = [t.pk for t in page]
    departements: dict[int, dict[str, str]] = {}
    for lignes in (
        Labellisation.departements.through.objects.filter(
            labellisation__territoire__in=ids
        ).values_list("labellisation__territoire_id", "departement__code", "departement__nom"),
        CompositionTerritoire.objects.en_vigueur()
        .filter(territoire__in=ids)
        .values_list("territoire_id", "epci__departement__code", "epci__departement__nom"),
        CommuneTerritoire.objects.en_vigueur()
        .filter(territoire__in=ids)
        .values_list("territoire_id", "commune__departement__code", "commune__departement__nom")
        .distinct(),
    ):
        for territoire_id, code, nom in lignes:
            departements.setdefault(territoire_id, {})[code] = nom
    for territoire in page:
        codes = departements.get(territoire.pk, {})
        territoire.liste_departements = [f"{codes[c]} ({c})" for c in sorted(codes)]
    parametres = request.GET.copy()
    parametres.pop("page", None)
    return render(
        request,
        "portail/territoires.html",
        {
            "title": "Les territoires d'industrie",
            "filtres": filtres,
            "page_obj": page,
            "parametres": parametres.urlencode(),
            "breadcrumb_data": fil_ariane("Territoires"),
        },
    )


@require_safe
def territoire_detail(request, slug):
    territoire = get_object_or_404(
        territoires_avec_totaux(Territoire.objects.select_related("region_pilote")), slug=slug
    )
    # The latest labelled phase (else the latest composed one, else the current phase).
    dernier_label = (
        territoire.labellisations.select_related("phase").order_by("-phase__date_debut").first()
    )
    derniere_composition = (
        territoire.compositions.select_related("phase").order_by("-phase__date_debut").first()
    )
    if dernier_label:
        phase = dernier_label.phase
    elif derniere_composition:
        phase = derniere_composition.phase
    else:
        phase = chiffres.phase_en_cours()
    compositions = territoire.compositions.filter(
        phase=phase, date_sortie__isnull=True
    ).select_related("epci__departement")
    communes_membres = territoire.communes_membres.filter(phase=phase, date_sortie__isnull=True)
    label_phase = dernier_label if dernier_label and dernier_label.phase == phase else None
    labellisations = territoire.labellisations.select_related(
        "phase", "successeur__territoire", "successeur__phase"
    ).prefetch_related("departements", "predecesseurs__territoire", "predecesseurs__phase")
    retenus = Paginator(
        projets_avec_financements(Projet.objects.publics().filter(territoire=territoire))
        .select_related("commune")
        .order_by("-decide_le", "reference"),
        DOSSIERS_PAR_PAGE,
    ).get_page(request.GET.get("page"))
    axes = (
        phase.axes.annotate(
            dossiers=Count(
                "projets",
                filter=Q(projets__in=Projet.objects.publics().filter(territoire=territoire)),
            )
        ).order_by("ordre")
        if phase
        else []
    )
    return render(
        request,
        "portail/territoire.html",
        {
            "title": territoire.nom,
            "territoire": territoire,
            "phase": phase,
            "compositions": compositions,
            "nombre_communes": communes_membres.count(),
            "etendue": territoire.departements(phase).select_related("region").order_by("code"),
            "regions": territoire.regions(phase).order_by("nom"),
            "label_phase": label_phase,
            "binome": territoire.binome_actif(),
            "labellisations": labellisations,
            "axes": axes,
            "retenus": retenus,
            "page_obj": retenus,
            # The territory's figures, as the API's `par_territoire` gives them.
            "chiffres": chiffres_territoire(territoire),
            "breadcrumb_data": fil_ariane(territoire.nom, (reverse("territoires"), "Territoires")),
        },
    )


# ---------------------------------------------------------------------------
# Account


@require_safe
@login_required
def compte(request):
    habilitation = habilitation_de(request.user)
    return render(
        request,
        "portail/compte.html",
        {
            "title": "Mon compte",
            "habilitation": habilitation,
            "territoires": habilitation.territoires.all() if habilitation else [],
            "est_porteur": est_porteur(request.user),
            "est_agent": est_agent(request.user),
            "breadcrumb_data": fil_ariane("Mon compte"),
        },
    )


@require_safe
@login_required
def espace_partenaire(request):
    """A partner's page: its API tokens (never the secret), the documentation, its quota.
    Leads and officers have their own spaces."""
    if not est_partenaire(request.user):
        return redirect("mes_dossiers" if est_porteur(request.user) else "compte")
    debits = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
    # Webhook subscriptions of each token (pages in api/espace.py).
    jetons = list(
        request.user.jetons_api.order_by("revoque_le", "-cree_le").prefetch_related("abonnements")
    )
    return render(
        request,
        "portail/espace_partenaire.html",
        {
            "title": "Espace partenaire",
            "habilitation": habilitation_de(request.user),
            "jetons": jetons,
            "a_des_abonnements": any(j.abonnements.all() for j in jetons),
            "debit_jeton": _debit_lisible(debits.get("jeton")),
            "debit_anonyme": _debit_lisible(debits.get("anonyme")),
            "breadcrumb_data": fil_ariane("Espace partenaire"),
        },
    )


def _debit_lisible(debit: str | None) -> str:
    """« 1200/minute » → « 1 200 requêtes par minute »."""
    if not debit or "/" not in debit:
        return "non limité"
    nombre, _, periode = debit.partition("/")
    unites = {"s": "seconde", "m": "minute", "h": "heure", "d": "jour"}
    unite = unites.get(periode[:1], periode)
    if nombre.isdigit():
        nombre = f"{int(nombre):,}".replace(",", "\u202f")
    return f"{nombre} requêtes par {unite}"


# ---------------------------------------------------------------------------
# Legal pages (footer)

PAGES_LEGALES = {
    "mentions_legales": "mentions-legales/",
    "donnees_personnelles": "donnees-personnelles/",
    "accessibilite": "accessibilite/",
    "plan_du_site": "plan-du-site/",
    "cookies": "gestion-des-cookies/",
}
TITRES_PAGES_LEGALES = {
    "mentions_legales": "Mentions légales",
    "donnees_personnelles": "Données personnelles",
    "accessibilite": "Déclaration d'accessibilité",
    "plan_du_site": "Plan du site",
    "cookies": "Gestion des cookies",
}


@require_safe
def page_legale(request, page):
    titre = TITRES_PAGES_LEGALES[page]
    return render(
        request,
        f"portail/legal/{page}.html",
        {
            "title": titre,
            "breadcrumb_data": fil_ariane(titre),
            "site_url": settings.SITE_URL.rstrip("/"),
            "duree_session_heures": settings.SESSION_COOKIE_AGE // 3600,
        },
    )


# ---------------------------------------------------------------------------
# Territory leads' space


def _lien_admin(reference: str, user) -> str:
    """Back-office page of a dossier the agent may see (404 otherwise)."""
    pk = (
        Projet.objects.visibles_par(user)
        .filter(reference=reference)
        .values_list("pk", flat=True)
        .first()
    )
    if pk is None:
        raise Http404("Dossier introuvable.")
    try:
        return reverse("admin:projets_projet_change", args=[pk])
    except NoReverseMatch:
        return reverse("admin:index")


def porteur_requis(vue):
    """Leads only. Officers are sent to the back-office; anyone else is refused."""

    @wraps(vue)
    @login_required
    def controle(request, *args, **kwargs):
        if est_porteur(request.user):
            return vue(request, *args, **kwargs)
        if est_agent(request.user) and request.user.is_staff:
            if "reference" in kwargs:
                return redirect(_lien_admin(kwargs["reference"], request.user))
            messages.info(request, "Les agents suivent les dossiers dans l'espace de gestion.")
            return redirect("admin:index")
        if est_partenaire(request.user):
            return redirect("espace_partenaire")
        return render(
            request,
            "portail/acces_refuse.html",
            {"title": "Accès réservé", "breadcrumb_data": fil_ariane("Accès réservé")},
            status=403,
        )

    return controle


def est_partenaire(user) -> bool:
    hab = habilitation_de(user)
    return bool(hab and hab.role == Habilitation.Role.PARTENAIRE)


def projet_du_porteur(request, reference: str) -> Projet:
    """A dossier of the lead's territories; 404 for any other."""
    return get_object_or_404(
        Projet.objects.visibles_par(request.user).select_related(
            "territoire", "phase", "commune__epci", "commune__departement"
        ),
        reference=reference,
    )


def _refuser_si_lecture_seule(request, projet: Projet):
    if projet.est_modifiable_par_porteur:
        return None
    messages.warning(
        request,
        f"Ce dossier est « {projet.get_statut_display().lower()} » : il n'est plus modifiable.",
    )
    return redirect("dossier_detail", reference=projet.reference)


def _erreurs_vers_formulaire(form, erreur: ValidationError) -> None:
    """Show a service's ValidationError next to the matching fields of `form`."""
    if not hasattr(erreur, "error_dict"):
        form.add_error(None, erreur)
        return
    for champ, liste in erreur.error_dict.items():
        form.add_error(champ if champ in form.fields else None, liste)


def _badge(projet: Projet) -> str:
    return BADGE_STATUT.get(projet.statut, "")


@require_safe
@porteur_requis
def mes_dossiers(request):
    dossiers = Paginator(
        Projet.objects.visibles_par(request.user)
        .pour_liste()
        .annotate(
            non_lus=Count(
                "messages", filter=Q(messages__de_porteur=False, messages__lu_le__isnull=True)
            )
        )
        .order_by("-modifie_le", "-pk"),
        DOSSIERS_PAR_PAGE,
    ).get_page(request.GET.get("page"))
    for projet in dossiers:
        projet.etape_suivante = ETAPE_SUIVANTE.get(projet.statut, "Aucune : dossier clos")
        projet.badge = _badge(projet)
    return render(
        request,
        "portail/mes_dossiers.html",
        {
            "title": "Mes dossiers",
            "dossiers": dossiers,
            "page_obj": dossiers,
            "breadcrumb_data": fil_ariane("Mes dossiers"),
        },
    )


@formulaire
@porteur_requis
def dossier_nouveau(request):
    territoires_porteur = Territoire.objects.visibles_par(request.user).order_by("nom")
    phase = chiffres.phase_en_cours()
    form = NouveauDossierForm(request.POST or None, territoires=territoires_porteur)
    if request.method == "POST" and form.is_valid():
        try:
            projet = services.projet_creer(
                user=request.user,
                territoire=form.cleaned_data["territoire"],
                phase=phase,
                titre=form.cleaned_data["titre"],
            )
        except ValidationError as erreur:
            _erreurs_vers_formulaire(form, erreur)
        else:
            messages.success(
                request,
                f"Brouillon {projet.reference} créé. Vous pouvez le compléter maintenant ou "
                "plus tard depuis « Mes dossiers ».",
            )
            return redirect("dossier_section", reference=projet.reference, section="porteur")
    return render(
        request,
        "portail/dossier_nouveau.html",
        {
            "title": "Nouveau dossier",
            "form": form,
            "breadcrumb_data": fil_ariane(
                "Nouveau dossier", (reverse("mes_dossiers"), "Mes dossiers")
            ),
        },
    )


def _etapes(projet: Projet, section: str) -> dict:
    noms = list(SECTIONS)
    rang = noms.index(section)
    return {
        "current_step_id": rang + 1,
        "current_step_title": SECTIONS[section][0],
        "next_step_title": SECTIONS[noms[rang + 1]][0] if rang + 1 < len(noms) else "Récapitulatif",
        "total_steps": len(noms),
    }


def _section_suivante(section: str) -> str | None:
    noms = list(SECTIONS)
    rang = noms.index(section)
    return noms[rang + 1] if rang + 1 < len(noms) else None


def _options_formulaire(section: str, projet: Projet, recherche: str = "") -> dict:
    if section == "projet":
        return {"phase": projet.phase}
    if section == "localisation":
        # Inside the territory's extent for the dossier's phase (rule of `territoires`).
        communes = projet.territoire.communes_possibles(projet.phase)
        return {
            "communes": communes,
            "recherche": recherche,
            "zonage_rural": zonage_rural_en_vigueur(timezone.localdate()),
        }
    return {}


def _valeurs_initiales(form_class, projet: Projet) -> dict:
    valeurs = {}
    for nom in form_class.base_fields:
        if nom == "axes":
            valeurs[nom] = list(projet.axes.all())
        elif nom == "commune":
            valeurs[nom] = projet.commune_id
        elif hasattr(projet, nom):
            valeurs[nom] = getattr(projet, nom)
    return valeurs


@formulaire
@porteur_requis
def dossier_section(request, reference, section):
    projet = projet_du_porteur(request, reference)
    if section not in SECTIONS:
        raise Http404("Section inconnue.")
    refus = _refuser_si_lecture_seule(request, projet)
    if refus:
        return refus
    if section == "pieces":
        return _section_pieces(request, projet)
    titre, form_class = SECTIONS[section]
    action = request.POST.get("action", "enregistrer")
    recherche = (request.POST or request.GET).get("recherche_commune", "").strip()
    options = _options_formulaire(section, projet, recherche)
    if request.method == "POST":
        form = form_class(request.POST, **options)
        if action != "rechercher" and form.is_valid():
            donnees = {k: v for k, v in form.cleaned_data.items() if k != "recherche_commune"}
            axes = donnees.pop("axes", None)
            try:
                services.projet_modifier(projet=projet, user=request.user, axes=axes, **donnees)
            except ValidationError as erreur:
                _erreurs_vers_formulaire(form, erreur)
            except PermissionDenied as refus:
                messages.error(request, str(refus))
                return redirect("dossier_detail", reference=projet.reference)
            else:
                messages.success(request, f"Section « {titre} » enregistrée.")
                if action == "continuer":
                    suivante = _section_suivante(section)
                    return redirect("dossier_section", reference=projet.reference, section=suivante)
                return redirect("dossier_section", reference=projet.reference, section=section)
    else:
        form = form_class(initial=_valeurs_initiales(form_class, projet), **options)
    return render(
        request,
        "portail/dossier_section.html",
        {
            "title": f"{titre} — dossier {projet.reference}",
            "projet": projet,
            "form": form,
            "section": section,
            "titre_section": titre,
            "etapes": _etapes(projet, section),
            "sections": SECTIONS,
            "recherche": recherche,
            "breadcrumb_data": _ariane_dossier(projet, titre),
        },
    )


def _ariane_dossier(projet: Projet, actuel: str) -> dict:
    return fil_ariane(
        actuel,
        (reverse("mes_dossiers"), "Mes dossiers"),
        (reverse("dossier_detail", args=[projet.reference]), projet.reference),
    )


def _section_pieces(request, projet: Projet):
    form = PieceJointeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            piece = services.piece_jointe_ajouter(
                projet=projet,
                user=request.user,
                fichier=form.cleaned_data["fichier"],
                type=form.cleaned_data["type"],
            )
        except ValidationError as erreur:
            if hasattr(erreur, "error_dict"):
                _erreurs_vers_formulaire(form, erreur)
            else:
                form.add_error("fichier", erreur)
        except PermissionDenied as refus:
            messages.error(request, str(refus))
            return redirect("dossier_detail", reference=projet.reference)
        else:
            messages.success(request, f"Pièce « {piece.nom_original} » ajoutée.")
            return redirect("dossier_section", reference=projet.reference, section="pieces")
    return render(
        request,
        "portail/dossier_pieces.html",
        {
            "title": f"Pièces jointes — dossier {projet.reference}",
            "projet": projet,
            "form": form,
            "pieces": _pieces(projet),
            "gerer_pieces": True,
            "section": "pieces",
            "etapes": _etapes(projet, "pieces"),
            "sections": SECTIONS,
            "breadcrumb_data": _ariane_dossier(projet, "Pièces jointes"),
        },
    )


@require_safe
@porteur_requis
def dossier_recapitulatif(request, reference):
    projet = projet_du_porteur(request, reference)
    refus = _refuser_si_lecture_seule(request, projet)
    if refus:
        return refus
    return render(
        request,
        "portail/dossier_recapitulatif.html",
        {
            "title": f"Récapitulatif — dossier {projet.reference}",
            "projet": projet,
            "manquants": services.champs_manquants(projet),
            "axes": projet.axes.all(),
            "pieces": _pieces(projet),
            "form": RenvoiForm(),
            "attestation": ATTESTATION,
            "sections": SECTIONS,
            "breadcrumb_data": _ariane_dossier(projet, "Récapitulatif"),
        },
    )


@require_POST
@porteur_requis
def dossier_deposer(request, reference):
    """Submit a draft or send back a completed dossier, with the certification on honour."""
    projet = projet_du_porteur(request, reference)
    renvoi = projet.statut == Statut.A_COMPLETER
    form = RenvoiForm(request.POST)
    form.is_valid()
    try:
        services.projet_deposer(
            projet=projet,
            user=request.user,
            attestation=bool(form.cleaned_data.get("attestation")),
            commentaire=form.cleaned_data.get("commentaire", ""),
        )
    except ValidationError as erreur:
        for message in erreur.messages:
            messages.error(request, message)
        if projet.est_modifiable_par_porteur:
            return redirect("dossier_recapitulatif", reference=projet.reference)
        return redirect("dossier_detail", reference=projet.reference)
    messages.success(
        request,
        "Votre dossier complété a été renvoyé à votre instructeur."
        if renvoi
        else "Votre dossier a été déposé. L'équipe d'instruction est prévenue par courriel.",
    )
    return redirect("dossier_detail", reference=projet.reference)


def _pieces(projet: Projet):
    """The dossier's current attachments (not withdrawn, not sent with a message)."""
    return projet.pieces_jointes.actives().du_dossier().select_related("depose_par")


def aides_du_dossier(projet: Projet):
    """The dossier's aids as its lead follows them: decided ones (not mere proposals), with
    what has been paid and what remains."""
    aides = list(
        Aide.objects.filter(projet=projet)
        .exclude(statut=Aide.Statut.PROPOSEE)
        .avec_verse()
        .select_related("enveloppe__dispositif__operateur")
        .prefetch_related("versements")
        .order_by("date_decision", "pk")
    )
    for aide in aides:
        aide.reste_a_verser = (
            None if aide.statut == Aide.Statut.ANNULEE else aide.montant - aide.montant_verse
        )
    return aides


@formulaire
@porteur_requis
def dossier_detail(request, reference):
    projet = projet_du_porteur(request, reference)
    form_message = MessageForm(request.POST or None)
    if request.method == "POST" and form_message.is_valid():
        try:
            services.message_envoyer(
                projet=projet, user=request.user, texte=form_message.cleaned_data["texte"]
            )
        except ValidationError as erreur:
            _erreurs_vers_formulaire(form_message, erreur)
        except PermissionDenied as refus:
            form_message.add_error(None, str(refus))
        else:
            messages.success(request, "Message envoyé à l'équipe d'instruction.")
            return redirect(reverse("dossier_detail", args=[projet.reference]) + "#messages")
    echanges = list(projet.messages.select_related("auteur").prefetch_related("pieces_jointes"))
    non_lus = {m.pk for m in echanges if not m.de_porteur and m.lu_le is None}
    if request.method == "GET" and non_lus:
        services.messages_marquer_lus(projet=projet, user=request.user)
    for message in echanges:
        message.nouveau = message.pk in non_lus
    demande = None
    if projet.statut == Statut.A_COMPLETER:
        demande = next((m for m in reversed(echanges) if m.demande_complements), None)
    possibles = {t.nom for t in services.transitions_possibles(user=request.user, projet=projet)}
    return render(
        request,
        "portail/dossier_detail.html",
        {
            "title": f"Dossier {projet.reference}",
            "projet": projet,
            "badge": _badge(projet),
            "etape_suivante": ETAPE_SUIVANTE.get(projet.statut, "Aucune : dossier clos"),
            "transitions": projet.transitions.select_related("auteur"),
            "echanges": echanges,
            "demande": demande,
            "aides": aides_du_dossier(projet),
            "pieces": _pieces(projet),
            "axes": projet.axes.all(),
            "form_message": form_message,
            "peut_abandonner": "abandonner" in possibles,
            "breadcrumb_data": fil_ariane(
                projet.reference, (reverse("mes_dossiers"), "Mes dossiers")
            ),
        },
    )


@require_safe
@porteur_requis
def dossier_pdf(request, reference):
    """The printable récapitulatif of a submitted dossier, as a PDF made by WeasyPrint from
    the same summary template as the pages."""
    projet = projet_du_porteur(request, reference)
    if projet.depose_le is None:
        messages.warning(request, "Le récapitulatif imprimable existe une fois le dossier déposé.")
        return redirect("dossier_detail", reference=projet.reference)
    html = render_to_string(
        "portail/dossier_imprimable.html",
        {
            "projet": projet,
            "axes": projet.axes.all(),
            "pieces": _pieces(projet),
            "aides": aides_du_dossier(projet),
            "attestation": ATTESTATION,
            "imprimable": True,
        },
        request=request,
    )
    reponse = HttpResponse(pdf(html), content_type="application/pdf")
    reponse["Content-Disposition"] = f'inline; filename="recapitulatif-{projet.reference}.pdf"'
    reponse["Cache-Control"] = "private, no-store"
    return reponse


def _piece_du_porteur(request, reference, uuid) -> PieceJointe:
    projet = projet_du_porteur(request, reference)
    return get_object_or_404(_pieces(projet).select_related("projet__territoire"), uuid=uuid)


@require_POST
@porteur_requis
def piece_jointe_retirer(request, reference, uuid):
    piece = _piece_du_porteur(request, reference, uuid)
    try:
        services.piece_jointe_retirer(piece=piece, user=request.user)
    except (ValidationError, PermissionDenied) as refus:
        for message in getattr(refus, "messages", [str(refus)]):
            messages.error(request, message)
    else:
        messages.success(
            request,
            f"Pièce « {piece.nom_original} » retirée du dossier (elle reste dans son historique).",
        )
    return redirect("dossier_section", reference=reference, section="pieces")


@formulaire
@porteur_requis
def piece_jointe_remplacer(request, reference, uuid):
    piece = _piece_du_porteur(request, reference, uuid)
    projet = piece.projet
    refus = _refuser_si_lecture_seule(request, projet)
    if refus:
        return refus
    form = RemplacementPieceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            nouvelle = services.piece_jointe_remplacer(
                piece=piece, user=request.user, fichier=form.cleaned_data["fichier"]
            )
        except ValidationError as erreur:
            form.add_error("fichier", erreur)
        except PermissionDenied as refus:
            messages.error(request, str(refus))
            return redirect("dossier_detail", reference=projet.reference)
        else:
            messages.success(
                request,
                f"« {piece.nom_original} » remplacée par « {nouvelle.nom_original} ».",
            )
            return redirect("dossier_section", reference=projet.reference, section="pieces")
    return render(
        request,
        "portail/piece_remplacer.html",
        {
            "title": f"Remplacer une pièce — dossier {projet.reference}",
            "projet": projet,
            "piece": piece,
            "form": form,
            "breadcrumb_data": _ariane_dossier(projet, "Remplacer une pièce"),
        },
    )


@formulaire
@porteur_requis
def dossier_abandonner(request, reference):
    projet = projet_du_porteur(request, reference)
    form = AbandonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            projet = services.projet_transitionner(
                projet=projet,
                transition="abandonner",
                user=request.user,
                commentaire=form.cleaned_data["commentaire"],
            )
        except ValidationError as erreur:
            for message in erreur.messages:
                messages.error(request, message)
        else:
            if projet.statut == "abandonne":
                messages.success(request, "Le projet est abandonné.")
            else:  # funded dossier: the officer settles its aid first
                messages.success(
                    request,
                    "Votre demande d'abandon est transmise à l'instructeur : le dossier "
                    "bénéficie d'une aide, qu'il doit d'abord régler (les sommes déjà "
                    "versées feront l'objet d'un ordre de reversement).",
                )
        return redirect("dossier_detail", reference=projet.reference)
    return render(
        request,
        "portail/dossier_abandonner.html",
        {
            "title": f"Abandonner le dossier {projet.reference}",
            "projet": projet,
            "form": form,
            "breadcrumb_data": _ariane_dossier(projet, "Abandonner"),
        },
    )


@require_safe
@login_required
def piece_jointe_telecharger(request, reference, uuid):
    """Download an attachment of a dossier of the perimeter: leads of the territory and
    officers only (404 for anyone else, partners included). Officers need their second
    factor like on every staff route (comptes.securite.DoubleAuthentificationMiddleware)."""
    piece = get_object_or_404(
        PieceJointe.objects.telechargeables_par(request.user),
        projet__reference=reference,
        uuid=uuid,
    )
    reponse = FileResponse(
        piece.fichier.open("rb"),
        as_attachment=True,
        filename=piece.nom_original,
        content_type=piece.type_mime,
    )
    reponse["X-Content-Type-Options"] = "nosniff"
    reponse["Cache-Control"] = "private, no-store"
    return reponse
