from django.urls import path

from collection.exports import views

app_name = "exports"
urlpatterns = [path("<int:pk>/download/", views.export_download, name="download")]
