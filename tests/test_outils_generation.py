"""Issue 16: the synthetic data set (generer_donnees) respects the programme's money rules."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from financements.models import Aide, Enveloppe
from outils.generation import generer

from . import factories as f


def test_donnees_generees_dans_les_regles(monde):
    for n in range(4):  # free EPCI for the synthetic territories
        f.IntercommunaliteFactory(nom=f"CC libre {n}", departement=monde["d07"])
    monde["adn"].laureat_rebond_industriel = True
    monde["adn"].save()
    generer(projets=400, seed=3)
    aides = Aide.objects.exclude(statut="annulee").select_related(
        "enveloppe__dispositif", "projet__territoire"
    )
    par_territoire, par_siren = defaultdict(Decimal), defaultdict(Decimal)
    rebond = 0
    for aide in aides:
        dispositif = aide.enveloppe.dispositif
        if dispositif.laureats_seulement:
            rebond += 1
            assert aide.projet.territoire.laureat_rebond_industriel
            assert aide.enveloppe.territoire_id == aide.projet.territoire_id
            par_territoire[aide.projet.territoire_id] += aide.montant
        if dispositif.regime_aide == "de_minimis":
            par_siren[aide.projet.porteur_siret[:9]] += aide.montant
        assert aide.projet.statut in ("retenu", "en_cours", "realise")
    assert rebond and max(par_territoire.values()) <= Decimal("2000000")
    assert max(par_siren.values()) <= Decimal("300000")
    for enveloppe in Enveloppe.objects.avec_consommation():
        assert enveloppe.montant_engage <= enveloppe.montant
    territoriales = Enveloppe.objects.filter(territoire__isnull=False)
    assert territoriales.exists()
    total = territoriales.filter(territoire=monde["adn"]).aggregate(t=Sum("montant"))["t"]
    assert total <= Decimal("2000000")
    assert set(territoriales.first().departements_pilotes.values_list("code", flat=True)) == {
        "07",
        "26",
    }
