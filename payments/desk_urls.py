"""The desk's money pages, mounted under /staff/."""

from django.urls import path

from payments import desk_views

urlpatterns = [
    path("appointments/<int:pk>/take-payment/", desk_views.take_payment, name="take_payment"),
    path("appointments/<int:pk>/charge-fee/", desk_views.charge_fee, name="charge_fee"),
    path("payments/<int:pk>/refund/", desk_views.refund_payment, name="refund_payment"),
    path("payments/<int:pk>/receipt/", desk_views.email_receipt, name="email_receipt"),
    path("plans/<int:pk>/sell-course/", desk_views.sell_course, name="sell_course"),
    path("plans/<int:pk>/end-course/", desk_views.end_course, name="end_course"),
    path("takings/", desk_views.takings, name="takings"),
]
