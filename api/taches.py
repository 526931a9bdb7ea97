"""Background tasks of the API: webhook deliveries (ids only as arguments)."""

from django_tasks import task


@task()
def webhook_livrer(livraison_id: int) -> None:
    from . import services

    services.livraison_tenter(livraison_id=livraison_id)


@task()
def webhooks_distribuer() -> None:
    from . import services

    services.webhooks_distribuer()
