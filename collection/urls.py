from django.urls import path

from collection import api, views

app_name = "collection"

urlpatterns = [
    path("<slug:slug>/", views.entry, name="entry"),
    path("<slug:slug>/consent/", views.consent, name="consent"),
    path("<slug:slug>/decline/", views.decline, name="decline"),
    path("<slug:slug>/about-you/", views.about_you, name="about_you"),
    path("<slug:slug>/practice/", views.practice, name="practice"),
    path("<slug:slug>/label/", views.label, name="label"),
    path("<slug:slug>/done/", views.done, name="done"),
    path("<slug:slug>/stop/", views.stop, name="stop"),
    path("<slug:slug>/ended/", views.ended, name="ended"),
]

# Mounted under /api/ by config/urls.py, namespace "collection_api".
api_urlpatterns = [
    path("studies/<slug:slug>/next/", api.NextPairView.as_view(), name="next"),
    path("studies/<slug:slug>/labels/", api.LabelView.as_view(), name="label"),
    path("studies/<slug:slug>/checks/", api.CheckAnswerView.as_view(), name="checks"),
]
