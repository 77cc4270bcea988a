"""The product's URLconf as it is, with the baseline's route in front of it.

The product's routes resolve exactly as they do in production (not one `include()` deeper),
and errors are answered by the product's handlers, which Django looks up on the root URLconf.
"""

from django.urls import path

from bench.views import baseline
from portal.urls import handler400, handler403, handler404, handler500, urlpatterns

urlpatterns = [path("bench/baseline/", baseline, name="bench-baseline"), *urlpatterns]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
