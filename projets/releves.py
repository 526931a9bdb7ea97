"""The « relevé de décisions » of a regional acceleration review, as a PDF made from the
template `projets/releve_decisions.html` (WeasyPrint renders HTML and CSS to PDF)."""

from django.template.loader import render_to_string
from django.utils import timezone

from commun.pdf import pdf

from .models import AvisRevue, RevueRegionale


def releve_de_decisions_pdf(revue: RevueRegionale) -> bytes:
    avis = (
        AvisRevue.objects.filter(revue=revue)
        .select_related("projet__territoire", "projet__commune")
        .order_by("projet__reference")
    )
    html = render_to_string(
        "projets/releve_decisions.html",
        {
            "revue": revue,
            "avis": avis,
            "membres": [m for m in revue.membres_presents.splitlines() if m.strip()],
            "favorables": sum(1 for a in avis if a.avis == AvisRevue.Avis.FAVORABLE),
            "edite_le": timezone.localtime(),
        },
    )
    return pdf(html, feuille="projets/css/releve.css")
