from django.urls import path

from analysis import views

app_name = "analysis"
urlpatterns = [
    path("<slug:slug>/", views.study_results, name="results"),
    path("<slug:slug>/estimates.csv", views.study_estimates_csv, name="estimates_csv"),
]
