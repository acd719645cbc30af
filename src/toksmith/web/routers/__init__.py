"""The API by area, one ``APIRouter`` each; :func:`toksmith.web.app.create_app` includes them."""

from toksmith.web.routers import compare, pages, playground, prices, results, tokenizers

ROUTERS = [
    pages.router,
    tokenizers.router,
    playground.router,
    compare.router,
    results.router,
    prices.router,
]

__all__ = ["ROUTERS"]
