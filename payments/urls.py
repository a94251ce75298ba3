from django.urls import path

from payments import views

urlpatterns = [
    path("payments/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
    path("pay/<int:pk>/", views.pay, name="pay"),
    path("pay/<int:pk>/card/", views.pay_card, name="pay_card"),
    path("pay/visit/<int:pk>/card-on-file/", views.keep_card, name="keep_card"),
    path("my/payments/", views.my_payments, name="my_payments"),
]
