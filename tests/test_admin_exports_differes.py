"""Large back-office exports prepared in the background, downloaded from « Mes exports »."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from comptes.models import EvenementAudit, ExportDiffere
from gestion import services as taches
from projets.models import Projet

from . import factories as f

LISTE = "/admin/projets/projet/"
EXPORT = "/admin/projets/projet/exporter/"


@pytest.fixture
def seuil_bas(settings):
    """More than two rows: deferred."""
    settings.EXPORT_SEUIL_DIFFERE = 2
    return settings


@pytest.fixture
def dossiers(monde, personas):
    """Four dossiers of Ardèche-Drôme Nord (three submitted), three of Bassin d'Alès."""
    adn = [
        f.ProjetFactory(
            territoire=monde["adn"],
            phase=monde["phase"],
            commune=monde["commune_07"],
            titre=f"Usine ardéchoise {i}",
        )
        for i in range(4)
    ]
    ales = [
        f.ProjetFactory(
            territoire=monde["ales"],
            phase=monde["phase"],
            commune=monde["commune_30"],
            titre=f"Usine gardoise {i}",
        )
        for i in range(3)
    ]
    Projet.objects.filter(pk__in=[p.pk for p in adn[:3] + ales[:2]]).update(statut="depose")
    return {"adn": adn, "ales": ales}


def _references(projets):
    return sorted(p.reference for p in projets)


def _lignes(contenu: bytes, format_: str) -> list[list]:
    """The rows of an export file, headers first, as text."""
    if format_ == "xlsx":
        feuille = load_workbook(io.BytesIO(contenu), read_only=True).active
        return [["" if v is None else str(v) for v in ligne] for ligne in feuille.values]
    return list(csv.reader(io.StringIO(contenu.decode("utf-8-sig")), delimiter=";"))


def _contenu(reponse) -> bytes:
    return b"".join(reponse.streaming_content)


def _exporter_en_arriere_plan(client, capture, requete):
    with capture(execute=True):
        reponse = client.get(requete)
    assert reponse.status_code == 302
    return reponse, ExportDiffere.objects.get()


def test_sous_le_seuil_le_fichier_est_la_reponse(client, personas, dossiers, seuil_bas):
    client.force_login(personas["region-ara"])
    # Ardèche-Drôme Nord, searched down to one dossier: at or below the threshold.
    reponse = client.get(f"{EXPORT}?format=csv&q={dossiers['adn'][1].reference}")
    assert reponse.status_code == 200
    assert reponse["Content-Disposition"].startswith("attachment")
    lignes = _lignes(_contenu(reponse), "csv")
    assert [ligne[0] for ligne in lignes[1:]] == [dossiers["adn"][1].reference]
    assert not ExportDiffere.objects.exists()
    evenement = EvenementAudit.objects.get(type="export")
    assert evenement.details["differe"] is False
    assert evenement.details["lignes"] == 1


def test_au_dessus_du_seuil_redirige_vers_la_liste_avec_un_message(
    client, personas, dossiers, seuil_bas, django_capture_on_commit_callbacks
):
    client.force_login(personas["region-ara"])
    with django_capture_on_commit_callbacks() as rappels:
        reponse = client.get(EXPORT + "?statut__exact=depose&format=xlsx")
    assert reponse.status_code == 302
    assert reponse["Location"] == LISTE + "?statut__exact=depose"
    (message,) = get_messages(reponse.wsgi_request)
    assert "L'export de 3 lignes est en préparation" in str(message)
    assert "Mes exports" in str(message) and "courriel" in str(message)
    export = ExportDiffere.objects.get()
    assert export.user == personas["region-ara"]
    assert (export.ressource, export.format, export.filtres) == (
        "projets.projet",
        "xlsx",
        "statut__exact=depose",
    )
    assert export.statut == ExportDiffere.Statut.EN_ATTENTE and export.lignes == 3
    assert export.expire_le - export.cree_le == timedelta(days=7)
    # Enqueued once committed, with the id only.
    assert len(rappels) == 1
    # Audited once, when asked for.
    evenement = EvenementAudit.objects.get(type="export")
    assert evenement.user == personas["region-ara"]
    assert evenement.details["ressource"] == "projets.projet"
    assert evenement.details["filtres"] == {"statut__exact": ["depose"]}
    assert evenement.details["differe"] is True and evenement.details["lignes"] == 3


@pytest.mark.parametrize("format_", ["csv", "xlsx"])
def test_le_fichier_prepare_est_celui_de_la_liste_filtree_du_perimetre(
    client, personas, dossiers, settings, mailoutbox, django_capture_on_commit_callbacks, format_
):
    client.force_login(personas["region-ara"])
    requete = f"{EXPORT}?statut__exact=depose&format={format_}"
    settings.EXPORT_SEUIL_DIFFERE = 1000
    direct = _lignes(_contenu(client.get(requete)), format_)
    settings.EXPORT_SEUIL_DIFFERE = 2
    _, export = _exporter_en_arriere_plan(client, django_capture_on_commit_callbacks, requete)
    assert export.statut == ExportDiffere.Statut.PRET, export.erreur
    assert export.lignes == 3 and export.termine_le is not None
    assert export.fichier.name == f"exports/{export.uuid}.{format_}"
    telechargement = client.get(
        reverse("admin:comptes_exportdiffere_telecharger", args=[export.uuid])
    )
    assert telechargement.status_code == 200
    assert telechargement["Content-Disposition"].startswith("attachment")
    assert telechargement["X-Content-Type-Options"] == "nosniff"
    differe = _lignes(_contenu(telechargement), format_)
    # Same columns, same rows as the direct export: the submitted ADN dossiers only.
    assert differe == direct
    assert differe[0][:3] == ["référence", "intitulé", "territoire"]
    assert sorted(ligne[0] for ligne in differe[1:]) == _references(dossiers["adn"][:3])
    # The owner is told where to find it.
    (courriel,) = mailoutbox
    assert courriel.to == [personas["region-ara"].email]
    assert str(export.uuid) in courriel.body and "prêt" in courriel.subject


def test_un_autre_perimetre_n_a_que_ses_lignes(
    client, personas, dossiers, seuil_bas, django_capture_on_commit_callbacks
):
    client.force_login(personas["region-occitanie"])
    _, export = _exporter_en_arriere_plan(
        client, django_capture_on_commit_callbacks, EXPORT + "?format=csv"
    )
    lignes = _lignes(export.fichier.open("rb").read(), "csv")
    assert sorted(ligne[0] for ligne in lignes[1:]) == _references(dossiers["ales"])


def test_la_recherche_est_gardee(
    client, personas, dossiers, seuil_bas, django_capture_on_commit_callbacks
):
    client.force_login(personas["national"])
    _, export = _exporter_en_arriere_plan(
        client, django_capture_on_commit_callbacks, EXPORT + "?q=gardoise&format=csv"
    )
    lignes = _lignes(export.fichier.open("rb").read(), "csv")
    assert sorted(ligne[0] for ligne in lignes[1:]) == _references(dossiers["ales"])


@pytest.fixture
def export_pret(client, personas, dossiers, seuil_bas, django_capture_on_commit_callbacks):
    client.force_login(personas["region-ara"])
    _, export = _exporter_en_arriere_plan(
        client, django_capture_on_commit_callbacks, EXPORT + "?format=csv"
    )
    assert export.statut == ExportDiffere.Statut.PRET
    client.logout()
    return export


@pytest.mark.parametrize(
    ("persona", "attendu"),
    [
        ("region-ara", 200),
        ("region-occitanie", 404),
        ("national", 404),
        ("prefecture-07", 404),
        ("porteur-adn", 302),  # no back-office: to the admin login
        ("anonyme", 302),
    ],
)
def test_seul_le_proprietaire_telecharge(client, personas, export_pret, persona, attendu):
    if persona != "anonyme":
        client.force_login(personas[persona])
    url = reverse("admin:comptes_exportdiffere_telecharger", args=[export_pret.uuid])
    reponse = client.get(url)
    assert reponse.status_code == attendu
    if attendu == 302:
        assert "/admin/login/" in reponse["Location"]


def test_mes_exports_ne_montre_que_les_siens(client, personas, export_pret):
    url_fiche = reverse("admin:comptes_exportdiffere_change", args=[export_pret.pk])
    lien = reverse("admin:comptes_exportdiffere_telecharger", args=[export_pret.uuid])
    client.force_login(personas["region-ara"])
    liste = client.get(reverse("admin:comptes_exportdiffere_changelist"))
    assert liste.status_code == 200 and lien in liste.text
    assert client.get(url_fiche).status_code == 200
    assert client.get(reverse("admin:comptes_exportdiffere_add")).status_code == 403
    assert 'href="/admin/comptes/exportdiffere/"' in client.get("/admin/").text
    for autre in ("region-occitanie", "national"):
        client.force_login(personas[autre])
        liste = client.get(reverse("admin:comptes_exportdiffere_changelist"))
        assert liste.status_code == 200 and lien not in liste.text
        assert client.get(url_fiche).status_code == 404


def test_un_export_expire_ne_se_telecharge_plus(client, personas, export_pret):
    passe = timezone.now() - timedelta(days=8)
    ExportDiffere.objects.filter(pk=export_pret.pk).update(
        cree_le=passe, expire_le=passe + timedelta(days=7)
    )
    client.force_login(personas["region-ara"])
    url = reverse("admin:comptes_exportdiffere_telecharger", args=[export_pret.uuid])
    assert client.get(url).status_code == 404
    liste = client.get(reverse("admin:comptes_exportdiffere_changelist"))
    assert "Expiré" in liste.text and url not in liste.text


def test_une_erreur_pendant_la_preparation_met_l_export_en_echec(
    client,
    personas,
    dossiers,
    seuil_bas,
    mailoutbox,
    caplog,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    def panne(*args, **kwargs):
        raise OSError("disque plein")

    monkeypatch.setattr(taches, "ecrire", panne)
    client.force_login(personas["region-ara"])
    _, export = _exporter_en_arriere_plan(
        client, django_capture_on_commit_callbacks, EXPORT + "?format=xlsx"
    )
    assert export.statut == ExportDiffere.Statut.ECHEC
    assert export.erreur == "Erreur lors de la préparation du fichier."
    assert export.termine_le is not None and not export.fichier
    assert "disque plein" in caplog.text
    (courriel,) = mailoutbox
    assert "Échec" in courriel.subject
    url = reverse("admin:comptes_exportdiffere_telecharger", args=[export.uuid])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("retrait", ["desactive", "sans_habilitation", "plus_equipe"])
def test_un_acces_retire_entre_temps_fait_echouer_l_export(
    client, personas, dossiers, seuil_bas, django_capture_on_commit_callbacks, retrait
):
    user = personas["region-ara"]
    client.force_login(user)
    with django_capture_on_commit_callbacks() as rappels:
        client.get(EXPORT + "?format=csv")
    if retrait == "desactive":
        user.is_active = False
        user.save(update_fields=["is_active"])
    elif retrait == "sans_habilitation":
        user.habilitation.delete()
    else:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    with django_capture_on_commit_callbacks(execute=True):
        for rappel in rappels:
            rappel()
    export = ExportDiffere.objects.get()
    assert export.statut == ExportDiffere.Statut.ECHEC
    assert export.erreur == "Votre accès à cette liste a été retiré."
    assert not export.fichier


def test_la_tache_ne_prepare_un_export_qu_une_fois(export_pret):
    fichier, termine_le = export_pret.fichier.name, export_pret.termine_le
    taches.preparer_export.call(export_id=export_pret.pk)
    taches.preparer_export.call(export_id=export_pret.pk + 1000)  # purged meanwhile
    export_pret.refresh_from_db()
    assert (export_pret.fichier.name, export_pret.termine_le) == (fichier, termine_le)


def test_purger_exports_supprime_les_exports_expires_et_leurs_fichiers(export_pret, personas):
    maintenant = timezone.now()
    garde = ExportDiffere.objects.create(
        user=personas["national"],
        ressource="projets.projet",
        intitule="dossiers",
        format="csv",
        lignes=10,
        expire_le=maintenant + timedelta(days=1),
    )
    nom = export_pret.fichier.name
    assert default_storage.exists(nom)
    ExportDiffere.objects.filter(pk=export_pret.pk).update(
        cree_le=maintenant - timedelta(days=8), expire_le=maintenant - timedelta(days=1)
    )
    sortie = io.StringIO()
    call_command("purger_exports", stdout=sortie)
    assert "1 export(s) expiré(s) supprimé(s)." in sortie.getvalue()
    assert not default_storage.exists(nom)
    assert list(ExportDiffere.objects.all()) == [garde]


def test_un_export_pret_a_son_fichier_contrainte_en_base(personas):
    from django.db import IntegrityError, transaction

    maintenant = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ExportDiffere.objects.create(
            user=personas["national"],
            ressource="projets.projet",
            intitule="dossiers",
            format="csv",
            lignes=1,
            statut="pret",
            termine_le=maintenant,
            expire_le=maintenant + timedelta(days=7),
        )


@pytest.mark.django_db(transaction=True)
def test_avec_la_file_en_base_l_executeur_prepare_l_export(client, monde, personas, settings):
    """TACHES_BACKEND=base: the request only enqueues; `db_worker` prepares the file."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EXPORT_SEUIL_DIFFERE = 2
    f.ProjetFactory.create_batch(
        3, territoire=monde["adn"], phase=monde["phase"], commune=monde["commune_07"]
    )
    client.force_login(personas["region-ara"])
    assert client.get(EXPORT + "?format=csv").status_code == 302
    export = ExportDiffere.objects.get()
    assert export.statut == ExportDiffere.Statut.EN_ATTENTE
    (tache,) = DBTaskResult.objects.all()
    assert tache.args_kwargs == {"args": [], "kwargs": {"export_id": export.pk}}
    call_command("db_worker", batch=True, startup_delay=False, reload=False)
    export.refresh_from_db()
    assert export.statut == ExportDiffere.Statut.PRET and export.lignes == 3
