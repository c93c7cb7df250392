"""Pages where bookings are looked after: booking details and their actions, the dashboards' live parts."""

urlpatterns: list = []
