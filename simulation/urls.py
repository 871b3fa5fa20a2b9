from django.urls import path

from simulation import views

app_name = "simulation"

urlpatterns = [path("<slug:slug>/", views.truth_vs_estimate, name="truth")]
