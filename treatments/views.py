from django.shortcuts import get_object_or_404, render

from .models import Treatment


def _catalogue():
    return Treatment.objects.active().select_related("protocol")


def home(request):
    return render(request, "treatments/home.html", {"treatments": _catalogue()})


def catalogue(request):
    return render(request, "treatments/catalogue.html", {"treatments": _catalogue()})


def treatment_detail(request, slug):
    treatment = get_object_or_404(
        Treatment.objects.active().select_related("protocol").prefetch_related("screening_rules"),
        slug=slug,
    )
    return render(request, "treatments/detail.html", {"treatment": treatment})
