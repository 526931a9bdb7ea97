"""Public directory of supported projects (`/projets/`) and the site search: the public
rule (public statuses, public fields), filters, sort, pagination, identifier jumps."""

from decimal import Decimal

import pytest
from django.urls import reverse

from projets.models import Projet

from . import factories as f


def _public(projet, statut="retenu"):
    Projet.objects.filter(pk=projet.pk).update(statut=statut)
    projet.refresh_from_db()
    return projet


@pytest.fixture
def annuaire(monde):
    retenu = _public(
        f.ProjetFactory(
            titre="Atelier de mécanique",
            porteur_raison_sociale="Forges du Vivarais",
            porteur_siret="73282932000074",
            contact_nom="Jeanne Secrète",
            contact_email="jeanne.secrete@exemple.fr",
            aide_demandee=Decimal("424242.00"),
            territoire=monde["adn"],
            commune=monde["commune_07"],
            phase=monde["phase"],
        )
    )
    en_cours = _public(
        f.ProjetFactory(
            titre="Usine de batteries",
            territoire=monde["ales"],
            commune=monde["commune_30"],
            phase=monde["phase"],
            montant_investissement=Decimal("5000000.00"),
        ),
        "en_cours",
    )
    brouillon = f.ProjetFactory(
        titre="Mécanique cachée", territoire=monde["adn"], phase=monde["phase"]
    )
    refuse = _public(
        f.ProjetFactory(titre="Mécanique refusée", territoire=monde["adn"], phase=monde["phase"]),
        "refuse",
    )
    enveloppe = f.EnveloppeFactory(region=monde["ara"])
    aide = f.AideFactory(
        projet=retenu, enveloppe=enveloppe, montant=Decimal("150000.00"), statut="engagee"
    )
    f.AideFactory(projet=retenu, enveloppe=enveloppe, montant=Decimal("7777.00"))  # proposed
    return {
        "retenu": retenu,
        "en_cours": en_cours,
        "brouillon": brouillon,
        "refuse": refuse,
        "aide": aide,
        "enveloppe": enveloppe,
    }


def test_liste_publique_seulement(client, annuaire):
    reponse = client.get(reverse("annuaire"))
    assert reponse.status_code == 200
    visibles = {p.reference for p in reponse.context["page_obj"]}
    assert visibles == {annuaire["retenu"].reference, annuaire["en_cours"].reference}
    contenu = reponse.content.decode()
    assert "Mécanique cachée" not in contenu
    assert "Mécanique refusée" not in contenu
    assert "Forges du Vivarais" in contenu


def test_fiche_publique_sans_personnes(client, annuaire):
    retenu = annuaire["retenu"]
    reponse = client.get(reverse("projet_public", args=[retenu.reference]))
    assert reponse.status_code == 200
    contenu = reponse.content.decode()
    assert "Forges du Vivarais" in contenu
    assert "73282932000074" in contenu
    assert "150\u202f000" in contenu  # the engaged aid
    assert "7\u202f777" not in contenu  # a proposed aid is not public
    assert "Jeanne" not in contenu and "jeanne.secrete" not in contenu
    assert "424\u202f242" not in contenu  # requested aid is not public
    assert annuaire["enveloppe"].dispositif.nom in contenu


@pytest.mark.parametrize("cle", ["brouillon", "refuse"])
def test_fiche_non_publique_404(client, annuaire, cle):
    reponse = client.get(reverse("projet_public", args=[annuaire[cle].reference]))
    assert reponse.status_code == 404


def test_filtres(client, annuaire, monde):
    def refs(**params):
        reponse = client.get(reverse("annuaire"), params)
        assert reponse.status_code == 200
        return {p.reference for p in reponse.context["page_obj"]}

    retenu, en_cours = annuaire["retenu"].reference, annuaire["en_cours"].reference
    assert refs(region="84") == {retenu}
    assert refs(region="76") == {en_cours}
    assert refs(territoire=monde["ales"].slug) == {en_cours}
    assert refs(phase=monde["phase"].code) == {retenu, en_cours}
    assert refs(dispositif=annuaire["enveloppe"].dispositif.code) == {retenu}
    axe = monde["axes"][1]
    annuaire["en_cours"].axes.add(axe)
    assert refs(axe=axe.pk) == {en_cours}
    assert refs(q="mecanique") == {retenu}


def test_filtre_invalide_message_francais(client, annuaire):
    reponse = client.get(reverse("annuaire"), {"region": "99", "tri": "nimporte"})
    assert reponse.status_code == 200
    contenu = reponse.content.decode()
    assert "ne sont pas valides" in contenu
    assert reponse.context["page_obj"].paginator.count == 2


def test_tri_et_pagination(client, annuaire, monde):
    reponse = client.get(reverse("annuaire"), {"tri": "investissement"})
    premiers = [p.reference for p in reponse.context["page_obj"]]
    assert premiers[0] == annuaire["en_cours"].reference
    for _ in range(25):
        _public(f.ProjetFactory(territoire=monde["adn"], phase=monde["phase"]))
    reponse = client.get(reverse("annuaire"), {"tri": "titre", "page": 2})
    assert reponse.context["page_obj"].number == 2
    assert 'class="fr-pagination"' in reponse.content.decode()
    assert "tri=titre&amp;page=1" in reponse.content.decode()


def test_requetes_de_la_liste(client, annuaire, monde, django_assert_num_queries):
    # count; DSFR site configuration (twice, django-dsfr); choices of the filters
    # (régions, territoires, phases, dispositifs, axes); the page's rows with their aid
    # sums as subqueries — the same 9 whatever the number of rows.
    with django_assert_num_queries(9):
        client.get(reverse("annuaire"))
    for _ in range(5):
        _public(f.ProjetFactory(territoire=monde["adn"], phase=monde["phase"]))
    with django_assert_num_queries(9):
        client.get(reverse("annuaire"))


def test_page_territoire_renvoie_vers_l_annuaire(client, annuaire, monde):
    reponse = client.get(reverse("territoire_detail", args=[monde["adn"].slug]))
    assert f"/projets/?territoire={monde['adn'].slug}" in reponse.content.decode()


def test_recherche_site(client, annuaire, monde):
    reponse = client.get(reverse("recherche"), {"q": "MECANIQUE"})
    assert reponse.status_code == 200
    assert [p.reference for p in reponse.context["projets"]] == [annuaire["retenu"].reference]
    reponse = client.get(reverse("recherche"), {"q": "drome nord"})
    assert list(reponse.context["territoires"]) == [monde["adn"]]


def test_recherche_identifiant_saute_a_l_objet(client, annuaire, monde):
    reponse = client.get(reverse("recherche"), {"q": annuaire["retenu"].reference.lower()})
    assert reponse.status_code == 302
    assert reponse["Location"] == reverse("projet_public", args=[annuaire["retenu"].reference])
    # A draft's reference jumps nowhere and finds nothing (public rule).
    reponse = client.get(reverse("recherche"), {"q": annuaire["brouillon"].reference})
    assert reponse.status_code == 200
    assert reponse.context["projets"] == []
    # A commune's code: its territory (no public dossier there besides the one → two hits).
    reponse = client.get(reverse("recherche"), {"q": "30007"})
    assert reponse.status_code == 200  # the Alès territory and its project
    assert list(reponse.context["territoires"]) == [monde["ales"]]


def test_recherche_entree_hostile(client, annuaire):
    for texte in ["<script>alert(1)</script>", "%", "a" * 500, "' OR 1=1 --"]:
        reponse = client.get(reverse("recherche"), {"q": texte})
        assert reponse.status_code == 200
        assert "<script>alert(1)</script>" not in reponse.content.decode()


def test_champ_de_recherche_dans_l_entete(client, db):
    contenu = client.get(reverse("accueil")).content.decode()
    assert 'role="search"' in contenu
    assert 'action="/recherche/"' in contenu
