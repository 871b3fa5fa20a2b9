from django.urls import path

from analysis import views

app_name = "analysis"
urlpatterns = [
    path("<slug:slug>/", views.study_results, name="results"),
    path("<slug:slug>/status.json", views.study_results_status, name="status"),
    path("<slug:slug>/estimates.csv", views.study_estimates_csv, name="estimates_csv"),
    path("<slug:slug>/figures/<slug:name>.<str:fmt>", views.study_figure, name="figure"),
]
