from django.urls import path

from webhooks import views

urlpatterns = [
    path("webhooks/", views.endpoints, name="webhooks"),
    path("webhooks/<int:pk>/", views.endpoint_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/rotate/", views.rotate, name="webhook_rotate"),
    path("webhooks/<int:pk>/ping/", views.ping, name="webhook_ping"),
    path("webhooks/<int:pk>/enable/", views.enable, name="webhook_enable"),
    path("webhooks/<int:pk>/disable/", views.disable, name="webhook_disable"),
    path("webhooks/<int:pk>/delete/", views.delete, name="webhook_delete"),
    path("webhooks/<int:pk>/deliveries/<int:delivery_pk>/", views.delivery_detail, name="webhook_delivery"),
    path("webhooks/<int:pk>/deliveries/<int:delivery_pk>/send/", views.send_again, name="webhook_send_again"),
]
