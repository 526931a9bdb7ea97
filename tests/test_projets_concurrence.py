"""Issue 3: concurrency on PostgreSQL (row locks and compare-and-set)."""

import threading

import pytest
from django.db import connection

from projets import services
from projets.models import Projet, TransitionProjet

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def _en_parallele(fonctions):
    barriere = threading.Barrier(len(fonctions))
    resultats = [None] * len(fonctions)

    def lancer(i, fonction):
        try:
            barriere.wait()
            resultats[i] = ("ok", fonction())
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            resultats[i] = ("erreur", exc)
        finally:
            connection.close()

    fils = [threading.Thread(target=lancer, args=(i, f)) for i, f in enumerate(fonctions)]
    for fil in fils:
        fil.start()
    for fil in fils:
        fil.join(timeout=60)
    return resultats


def test_depot_et_retrait_simultanes(projet_adn, personas):
    porteur = personas["porteur-adn"]
    resultats = _en_parallele(
        [
            lambda: services.projet_transitionner(
                projet=projet_adn, transition="deposer", user=porteur
            ),
            lambda: services.projet_transitionner(
                projet=projet_adn, transition="abandonner", user=porteur, commentaire="Renonce"
            ),
        ]
        * 3
    )
    gagnants = [r for r in resultats if r[0] == "ok"]
    perdants = [r for r in resultats if r[0] == "erreur"]
    projet = Projet.objects.get(pk=projet_adn.pk)
    # The first to lock wins; a withdrawal after a deposit is still legal (non-final).
    assert 1 <= len(gagnants) <= 2
    assert all(isinstance(e, services.TransitionRefusee) for _, e in perdants)
    transitions = list(
        TransitionProjet.objects.filter(projet=projet).values_list("statut_avant", "statut_apres")
    )
    assert len(transitions) == len(gagnants)
    assert transitions[-1][1] == projet.statut
    # The trail is a consistent chain.
    for (_, apres), (avant, _) in zip(transitions, transitions[1:], strict=False):
        assert apres == avant


def test_references_uniques_sous_creation_concurrente(monde, personas):
    porteur = personas["porteur-adn"]
    resultats = _en_parallele(
        [
            lambda i=i: services.projet_creer(
                user=porteur, territoire=monde["adn"], phase=monde["phase"], titre=f"Projet {i}"
            )
            for i in range(20)
        ]
    )
    assert [r[0] for r in resultats] == ["ok"] * 20
    references = {r[1].reference for r in resultats}
    assert len(references) == 20
    numeros = sorted(int(ref[-5:]) for ref in references)
    assert numeros == list(range(1, 21))
