from django.urls import path

from collection.researcher_api import views

urlpatterns = [
    path("studies/", views.StudyList.as_view(), name="studies"),
    path("studies/<slug:slug>/", views.StudyDetail.as_view(), name="study"),
    path("studies/<slug:slug>/enrollments/", views.EnrollmentList.as_view(), name="enrollments"),
    path("studies/<slug:slug>/labels/", views.LabelList.as_view(), name="labels"),
    path("studies/<slug:slug>/exports/", views.ExportList.as_view(), name="exports"),
    path("studies/<slug:slug>/exports/<int:pk>/", views.ExportDetail.as_view(), name="export"),
    path(
        "studies/<slug:slug>/exports/<int:pk>/download/",
        views.ExportDownload.as_view(),
        name="export-download",
    ),
    path("stimulus-sets/", views.StimulusSetList.as_view(), name="stimulus-sets"),
    path("stimulus-sets/import/", views.PairImport.as_view(), name="stimulus-set-import"),
    path("stimulus-sets/<int:pk>/stimuli/", views.StimulusList.as_view(), name="stimuli"),
    path("stimulus-sets/<int:pk>/reviews/", views.StimulusReview.as_view(), name="reviews"),
]
