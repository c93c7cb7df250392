"""Client tags and their booking rules (``availability.tag_views``)."""

from django.urls import path

from availability import tag_views

urlpatterns = [
    path("client-tags/", tag_views.tag_list, name="client_tags"),
    path("client-tags/new/", tag_views.tag_create, name="client_tag_create"),
    path("client-tags/assign/", tag_views.tag_assign, name="client_tag_assign"),
    path("client-tags/<int:pk>/", tag_views.tag_edit, name="client_tag_edit"),
    path("client-tags/<int:pk>/delete/", tag_views.tag_delete, name="client_tag_delete"),
    path("client-tags/<int:pk>/clients/", tag_views.tag_clients, name="client_tag_clients"),
]
