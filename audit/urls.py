from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("<slug:slug>/", views.audit_page, name="page"),
    path("<slug:slug>/scoring-sheet.jsonl", views.audit_sheet, name="sheet"),
    path("<slug:slug>/figure/<int:model>.<str:fmt>", views.audit_figure_view, name="figure"),
]
