"""The second factor on every route that serves staff data, checked by walking EVERY
URL pattern of the project: an agent who has typed only a password (while
DOUBLE_AUTHENTIFICATION is on) is sent to the code page everywhere but on the public
routes, and no route serves them staff data."""

import re

import pytest
from django.urls import URLResolver, get_resolver, resolve
from django.urls.resolvers import RoutePattern
from django_otp.plugins.otp_totp.models import TOTPDevice

from comptes.models import DemandeHabilitation
from comptes.securite import ROUTES_SANS_SECOND_FACTEUR, route_sans_second_facteur

pytestmark = pytest.mark.django_db

# Staff data a password-only session must never see: a draft dossier's title and its
# porteur, an attachment's name, a pending access request's e-mail.
SECRETS = ("Extension de l'atelier", "Ateliers du Vivarais", "devis.pdf", "martine.secrete@")


def motifs(patterns=None, prefixe=()):
    """(pattern pieces, full route) for every URL pattern of the project, included ones
    too."""
    for motif in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(motif, URLResolver):
            yield from motifs(motif.url_patterns, (*prefixe, motif.pattern))
        else:
            yield (*prefixe, motif.pattern)


def _groupe(texte: str, debut: int) -> int:
    """Index just after the parenthesised group opening at `debut`."""
    profondeur = 0
    for i in range(debut, len(texte)):
        if texte[i] == "\\":
            continue
        if texte[i] == "(" and (i == 0 or texte[i - 1] != "\\"):
            profondeur += 1
        elif texte[i] == ")" and texte[i - 1] != "\\":
            profondeur -= 1
            if profondeur == 0:
                return i + 1
    raise ValueError(texte)


def concret(piece, valeurs) -> str:
    """A concrete path for one pattern piece (route or regex), parameters from `valeurs`."""
    texte = str(piece)
    if isinstance(piece, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(valeurs.get(m.group(1), "1")), texte)
    sortie, i = "", 0
    while i < len(texte):
        if texte.startswith("(?P<", i):
            nom = texte[i + 4 : texte.index(">", i)]
            fin = _groupe(texte, i)
            candidats = valeurs.get(nom, [])
            candidats = candidats if isinstance(candidats, list) else [candidats]
            sortie += next(
                str(c)
                for c in [*candidats, *valeurs["_autres"]]
                if re.fullmatch(texte[i:fin], str(c))
            )
            i = fin
        elif texte.startswith("(?:", i):  # an optional suffix: left out
            i = _groupe(texte, i)
            i += 1 if texte[i : i + 1] == "?" else 0
        elif texte[i] == "(":  # an unnamed parameter (simple_history's history ids)
            sortie += "1"
            i = _groupe(texte, i)
        elif texte.startswith(".*", i):
            sortie += "inconnu"
            i += 2
        elif texte[i] in "^$":
            i += 1
        elif texte[i] == "\\":
            sortie += texte[i + 1]
            i += 2
        else:
            sortie += texte[i]
            i += 1
    return sortie


@pytest.fixture
def donnees(monde, personas, projet_adn):
    DemandeHabilitation.objects.create(
        user=personas["partenaire-bpi"], email="martine.secrete@ara.gouv.fr"
    )
    piece = projet_adn.pieces_jointes.get()
    return {
        "reference": projet_adn.reference,
        "uuid": piece.uuid,
        "slug": monde["adn"].slug,
        "section": "porteur",
        "object_id": projet_adn.pk,
        "pk": DemandeHabilitation.objects.get().pk,
        "jeton": "jeton-inconnu",
        "uidb64": "MQ",
        "token": "jeton",
        "app_label": "projets",
        "url": "inconnu/",
        "code": "84",
        "siren": monde["epci_07"].siren,
        "code_insee": "07010",
        "identifiant": "inconnu",
        "format": "json",
        # For any other parameter: the first of these its pattern accepts.
        "_autres": [
            "1",
            "2023-2027",
            "2023-2027-foncier",
            piece.uuid,
            monde["phase"].code,
            "inconnu",
        ],
    }


def _sans_ancre(route: str) -> str:
    return re.sub(r"(?<!\[)\^", "", route)


def adresses(valeurs):
    """Every pattern of the project as a concrete URL that resolves back to it."""
    resultat = []
    for pieces in motifs():
        route = "".join(str(p) for p in pieces)
        url = "/" + "".join(concret(p, valeurs) for p in pieces)
        assert _sans_ancre(resolve(url).route) == _sans_ancre(route), (url, route)
        resultat.append(url)
    return resultat


def _contenu(reponse) -> str:
    if getattr(reponse, "streaming", False):
        return b"".join(reponse.streaming_content).decode(errors="replace")
    return reponse.content.decode(errors="replace")


@pytest.fixture
def agent_mot_de_passe_seul(client, personas, settings):
    settings.DOUBLE_AUTHENTIFICATION = True
    agent = personas["region-ara"]
    TOTPDevice.objects.create(user=agent, name="téléphone", confirmed=True)
    client.force_login(agent)
    return agent


def test_chaque_route_exige_le_second_facteur(client, donnees, agent_mot_de_passe_seul):
    """Failed before the fix on dossiers/<reference>/pieces/<uuid>/: the portal served
    the attachment to a password-only session (it was the only staff route outside
    the admin, the API and comptes' own pages without the check)."""
    urls = adresses(donnees)
    assert len(urls) > 200  # the admin, the API, the portal, comptes: all of them
    publiques = []
    for url in urls:
        reponse = client.get(url)
        contenu = _contenu(reponse)
        for secret in SECRETS:
            assert secret not in contenu, (url, secret)
        assert "devis" not in reponse.get("Content-Disposition", ""), url
        if route_sans_second_facteur(resolve(url)):
            publiques.append(url)
            continue
        assert reponse.status_code == 302, (url, reponse.status_code)
        assert reponse["Location"].startswith("/comptes/double-authentification/"), url
    # The exemptions are the public routes and the API (open data for such a session).
    assert all(
        u.startswith("/api/") or resolve(u).view_name in ROUTES_SANS_SECOND_FACTEUR
        for u in publiques
    )


def test_piece_jointe_servie_apres_le_second_facteur(client, donnees, agent_mot_de_passe_seul):
    from django_otp import DEVICE_ID_SESSION_KEY

    url = f"/dossiers/{donnees['reference']}/pieces/{donnees['uuid']}/"
    assert client.get(url).status_code == 302
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get().persistent_id
    session.save()
    reponse = client.get(url)
    assert reponse.status_code == 200
    assert "devis.pdf" in reponse["Content-Disposition"]


def test_porteur_jamais_concerne(client, donnees, personas, settings):
    settings.DOUBLE_AUTHENTIFICATION = True
    client.force_login(personas["porteur-adn"])
    url = f"/dossiers/{donnees['reference']}/pieces/{donnees['uuid']}/"
    assert client.get(url).status_code == 200
    assert client.get(f"/dossiers/{donnees['reference']}/").status_code == 200


def test_sans_le_reglage_aucune_redirection(client, donnees, personas, settings):
    settings.DOUBLE_AUTHENTIFICATION = False
    client.force_login(personas["region-ara"])
    url = f"/dossiers/{donnees['reference']}/pieces/{donnees['uuid']}/"
    assert client.get(url).status_code == 200


# ---------------------------------------------------------------------------
# Who may download an attachment through the portal route


@pytest.mark.parametrize(
    ("qui", "statut"),
    [
        ("porteur-adn", 200),
        ("region-ara", 200),
        ("national", 200),
        ("prefecture-07", 200),
        ("porteur-ales", 404),
        ("region-occitanie", 404),
        # Failed before the fix: API-only partners got the file (their perimeter follows
        # the échelon, national here, whatever the role).
        ("partenaire-bpi", 404),
        ("partenaire-ara", 404),
    ],
)
def test_piece_jointe_aux_seuls_porteurs_et_agents_du_perimetre(
    client, monde, personas, projet_adn, qui, statut
):
    from territoires.models import Habilitation

    from . import factories as f

    if qui == "partenaire-ara":
        user = f.utilisateur(
            "partenaire-ara",
            role="partenaire",
            echelon="region",
            niveau=Habilitation.Niveau.LECTEUR,
            regions=[monde["ara"]],
        )
    else:
        user = personas[qui]
    piece = projet_adn.pieces_jointes.get()
    client.force_login(user)
    reponse = client.get(f"/dossiers/{projet_adn.reference}/pieces/{piece.uuid}/")
    assert reponse.status_code == statut
    if statut == 404:
        assert "devis" not in reponse.get("Content-Disposition", "")
