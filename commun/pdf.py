"""PDF rendering of printable pages with WeasyPrint, the one way the portal makes PDFs.

The HTML comes from the project's own templates (the dossier summary the lead sees on
screen, the relevé de décisions of a review); the only stylesheet is a static file named
by the caller (default `portail/css/imprimable.css`). WeasyPrint fetches nothing: every
URL (images, fonts, links to other files) is refused, so a dossier's content can never
make the server open a file or a network address.
"""

import logging

from django.contrib.staticfiles import finders

FEUILLE = "portail/css/imprimable.css"

# WeasyPrint logs each rendering step at INFO: not a request log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def pdf(html: str, feuille: str = FEUILLE) -> bytes:
    """The PDF of `html` (a full document), styled by the static file `feuille`."""
    # Imported here: loading WeasyPrint parses its stylesheets (slow for every process).
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    sans_acces = URLFetcher(allowed_protocols=())
    with open(finders.find(feuille), encoding="utf-8") as fichier:
        style = CSS(string=fichier.read(), url_fetcher=sans_acces)
    return HTML(string=html, url_fetcher=sans_acces).write_pdf(stylesheets=[style])
