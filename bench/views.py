from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.models import BaselineRow


# Exempt like the public form, so both go through the same middleware doing the same work.
@csrf_exempt
@require_POST
def baseline(request: HttpRequest) -> HttpResponse:
    BaselineRow.objects.create(email=request.POST.get("email", ""))
    return HttpResponse(status=201)
