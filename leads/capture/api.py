"""The JSON intake: the same form, validation and service as the hosted page."""

from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from leads.capture.forms import submission_form_class
from leads.capture.services import lead_capture
from leads.capture.views import request_provenance
from leads.models import Form
from portal.errors import DomainError, InvalidFields


class SubmissionCreate(APIView):
    """POST a JSON object of field values; `page_url` and `utm` travel beside them.

    Refusals are raised, and portal.error_handlers answers them in the one error shape.
    """

    # Public and cross-origin like the hosted form: no session, so no CSRF to check.
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request: Request, slug: str) -> Response:
        form = get_object_or_404(Form.objects.filter(is_published=True), slug=slug)
        if not isinstance(request.data, dict):
            raise DomainError("Send a JSON object of field values.", code="not_an_object")
        bound = submission_form_class(form)(request.data)
        if not bound.is_valid():
            raise InvalidFields(bound.errors.get_json_data())
        utm = request.data.get("utm")
        submission = lead_capture(
            form=form,
            payload=request.data,
            cleaned=bound.cleaned_data,
            provenance=request_provenance(
                request,
                page_url=request.data.get("page_url", ""),
                utm=utm if isinstance(utm, dict) else {},
            ),
        )
        return Response(
            {"submission": submission.pk, "lead": submission.lead_id},
            status=status.HTTP_201_CREATED,
        )
