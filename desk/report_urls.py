"""The owner's report, mounted at /staff/reports/ (front desk only)."""

from django.urls import path

from desk.views import reports

urlpatterns = [
    path("", reports.report, name="staff_reports"),
    path("export.csv", reports.report_csv, name="staff_reports_csv"),
]
