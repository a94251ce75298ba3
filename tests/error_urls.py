"""The site's URLs plus one view that fails, to see the 500 page (tests/test_error_pages.py)."""

from django.urls import path

from skinclinic.urls import handler403, handler404, handler500, urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def broken(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("broken/", broken), *urlpatterns]
