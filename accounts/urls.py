from django.urls import path

from accounts import views

urlpatterns = [
    path("coach/settings/", views.coach_settings, name="coach_settings"),
    path("profile/", views.profile, name="profile"),
    path("language/", views.set_language, name="set_language"),
    path("profile/tokens/", views.token_create, name="token_create"),
    path("profile/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("profile/dependents/", views.dependent_add, name="dependent_add"),
    path("connections/", views.connections, name="connections"),
    path("connections/<int:pk>/accept/", views.connection_respond, {"decision": "accept"}, name="connection_accept"),
    path("connections/<int:pk>/decline/", views.connection_respond, {"decision": "decline"}, name="connection_decline"),
]
