from django.shortcuts import get_object_or_404, render

from .models import ScreeningRule, Treatment


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
    rules = list(treatment.screening_rules.all())

    def having(outcome):
        return [rule for rule in rules if rule.outcome == outcome]

    return render(
        request,
        "treatments/detail.html",
        {
            "treatment": treatment,
            "protocol": treatment.protocol_or_none,
            "not_for": having(ScreeningRule.Outcome.NOT_NOW),
            "consult_first": having(ScreeningRule.Outcome.CONSULT_FIRST),
            "review": having(ScreeningRule.Outcome.PROVIDER_REVIEW),
        },
    )
