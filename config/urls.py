from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from collection.urls import api_urlpatterns as collection_api
from config.health import healthz, readyz
from config.metrics import metrics

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("s/", include("collection.urls")),
    path("results/", include("analysis.urls")),
    path("simulation/", include("simulation.urls")),
    path("exports/", include("collection.exports.urls")),
    path("api/", include((collection_api, "collection_api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]

handler500 = "config.db_unavailable.server_error"
