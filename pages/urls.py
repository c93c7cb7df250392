from django.urls import path

from pages import views

urlpatterns = [
    path("account/my-data/", views.my_data, name="my_data"),
    path("account/erase/", views.erase_account, name="erase_account"),
]
