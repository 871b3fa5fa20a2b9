from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from analysis.api import StudyResults
from collection.researcher_api.urls import urlpatterns as researcher_api
from collection.urls import api_urlpatterns as collection_api
from config.health import healthz, readyz
from config.metrics import metrics

# Swagger UI, served from our own static files; its script is a file (the split view), but
# React sets one inline style, so this page alone allows inline styles (never scripts).
api_docs = csp_update({"style-src": "'unsafe-inline'"})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("s/", include("collection.urls")),
    path("results/", include("analysis.urls")),
    path("simulation/", include("simulation.urls")),
    path("audit/", include("audit.urls")),
    path("exports/", include("collection.exports.urls")),
    path("api/", include((collection_api, "collection_api"))),
    path(
        "api/v1/",
        include(
            (
                [
                    *researcher_api,
                    path("studies/<slug:slug>/results/", StudyResults.as_view(), name="results"),
                ],
                "api_v1",
            )
        ),
    ),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]

handler404 = "config.not_found.page_not_found"
handler500 = "config.db_unavailable.server_error"
