"""Promotion codes: a coach's own, and the practice's and everyone's for staff."""

from django.urls import path

from bookings import promo_views

urlpatterns = [
    path("promotion-codes/", promo_views.promo_list, name="promo_list"),
    path("promotion-codes/new/", promo_views.promo_new, name="promo_new"),
    path("promotion-codes/<int:pk>/", promo_views.promo_edit, name="promo_edit"),
    path("promotion-codes/<int:pk>/toggle/", promo_views.promo_toggle, name="promo_toggle"),
]
