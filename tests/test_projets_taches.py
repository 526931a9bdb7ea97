"""Issue 9: notification e-mails are background tasks enqueued once the transaction commits."""

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks.signals import task_enqueued
from django_tasks_db.models import DBTaskResult

from projets import services


@pytest.fixture
def adresses(personas):
    for persona in ("region-ara", "porteur-adn"):
        personas[persona].email = f"{persona}@exemple.gouv.fr"
        personas[persona].save()


@pytest.fixture
def taches_planifiees():
    """The task results enqueued during the test (name, args, kwargs)."""
    planifiees = []

    def noter(sender, task_result, **kwargs):
        planifiees.append((task_result.task.name, task_result.args, task_result.kwargs))

    task_enqueued.connect(noter)
    yield planifiees
    task_enqueued.disconnect(noter)


def test_tache_planifiee_au_commit_puis_courriel(
    projet_adn, personas, adresses, django_capture_on_commit_callbacks, taches_planifiees
):
    with django_capture_on_commit_callbacks() as rappels:
        services.projet_transitionner(
            projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
        )
        # Nothing is enqueued nor sent before the transaction commits.
        assert taches_planifiees == [] and mail.outbox == []
    assert len(rappels) == 1
    rappels[0]()
    # Primitive arguments only: the task re-reads the dossier.
    assert taches_planifiees == [
        (
            "notifier_statut_change",
            [],
            {"projet_id": projet_adn.pk, "cible": "depose", "transition": "deposer"},
        )
    ]
    destinataires = {adresse for m in mail.outbox for adresse in m.to}
    assert {"region-ara@exemple.gouv.fr", "porteur-adn@exemple.gouv.fr"} <= destinataires
    assert all(projet_adn.reference in m.subject for m in mail.outbox)


def test_message_planifie_au_commit(
    projet_adn, personas, adresses, django_capture_on_commit_callbacks, taches_planifiees
):
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_envoyer(
            projet=projet_adn, user=personas["region-ara"], texte="Une question"
        )
    assert taches_planifiees == [("notifier_message_recu", [], {"message_id": message.pk})]
    assert [m.to for m in mail.outbox] == [["porteur-adn@exemple.gouv.fr"]]


def test_pas_de_tache_si_la_transaction_echoue(projet_adn, personas, taches_planifiees):
    with pytest.raises(services.TransitionRefusee):
        services.projet_transitionner(
            projet=projet_adn, transition="retenir", user=personas["porteur-adn"]
        )
    assert taches_planifiees == [] and mail.outbox == []


# A real worker run closes its database connection: needs a transactional test.
@pytest.mark.django_db(transaction=True)
def test_backend_base_de_donnees(
    projet_adn, personas, adresses, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        services.message_envoyer(
            projet=projet_adn, user=personas["region-ara"], texte="Une question"
        )
    # The task waits in the database; no mail until a worker runs it.
    tache = DBTaskResult.objects.get()
    assert tache.task_path == "projets.notifications.notifier_message_recu"
    assert tache.status == "READY"
    assert mail.outbox == []
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    tache.refresh_from_db()
    assert tache.status == "SUCCESSFUL"
    assert [m.to for m in mail.outbox] == [["porteur-adn@exemple.gouv.fr"]]


def test_echec_d_envoi_journalise_sans_casser_l_operation(
    projet_adn, personas, adresses, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def en_panne(*args, **kwargs):
        raise ConnectionRefusedError("serveur SMTP injoignable")

    monkeypatch.setattr("projets.notifications.send_mail", en_panne)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_envoyer(
            projet=projet_adn, user=personas["region-ara"], texte="Une question"
        )
    assert message.pk and mail.outbox == []
    assert "Notification de message non envoyée" in caplog.text
    assert "serveur SMTP injoignable" in caplog.text  # with the traceback


# A real worker run closes its database connection: needs a transactional test.
@pytest.mark.django_db(transaction=True)
def test_backend_base_de_donnees_changement_de_statut(
    projet_adn, personas, adresses, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        services.projet_transitionner(
            projet=projet_adn, transition="deposer", user=personas["porteur-adn"]
        )
    tache = DBTaskResult.objects.get()
    assert tache.args_kwargs["kwargs"] == {
        "projet_id": projet_adn.pk,
        "cible": "depose",
        "transition": "deposer",
    }
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    destinataires = {adresse for m in mail.outbox for adresse in m.to}
    assert {"region-ara@exemple.gouv.fr", "porteur-adn@exemple.gouv.fr"} <= destinataires
