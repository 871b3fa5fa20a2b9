"""The download of a finished export, for researchers who may read its study."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404, HttpRequest

from collection.access import studies_readable
from collection.exports.services import export_file
from collection.models import Export


@staff_member_required
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    # Another researcher's export and a missing one get the same 404: nothing tells
    # them apart.
    export = (
        Export.objects.filter(pk=pk, study__in=studies_readable(user=request.user))
        .select_related("study")
        .first()
    )
    path = export_file(export) if export is not None else None
    if export is None or path is None:
        raise Http404("no such export")
    name = f"{export.study.slug}-{export.format}-{export.file_format}-{export.pk}.zip"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)
