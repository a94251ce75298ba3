"""What a patient reads about a treatment, per language (django-modeltranslation): name,
summary, description, what to expect, pre-care and aftercare, and the screening questions
(with the condition each names on "Who it is not for").

`treatment.name` reads the active language's text and falls back to English where a
translation is missing; the admin shows one field per language (name_en, name_es...).
"""

from modeltranslation.translator import TranslationOptions, register

from treatments.models import ScreeningRule, Treatment


@register(Treatment)
class TreatmentTranslation(TranslationOptions):
    fields = ("name", "summary", "description", "what_to_expect", "precare", "aftercare")


@register(ScreeningRule)
class ScreeningRuleTranslation(TranslationOptions):
    fields = ("question", "explanation", "condition")
