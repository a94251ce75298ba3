"""Consent pages: signing (by the patient under /my/, on a clinic tablet under /staff/) and the
access-checked PDF of a signed form."""

from django.urls import path

from consent import views

urlpatterns = [
    path("my/visits/<int:pk>/consent/", views.patient_sign, name="visit_consent"),
    path("staff/visits/<int:pk>/consent/", views.staff_sign, name="staff_visit_consent"),
    path("consents/<int:pk>/form.pdf", views.signed_pdf, name="consent_pdf"),
]
