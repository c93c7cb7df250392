"""Who may open what, for every page and API endpoint of the accounts app and the site.

The product's rule: a page or object a user may not see answers 404; one they may see but
not change answers 403; visitors are sent to the login page (pages) or get a 401 JSON error
(API). Admins (superusers) pass every role check. Each test below runs once per role, so
every role is proven for every page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.models import ApiToken, Connection, ConnectionStatus, GuardianLink, User
from accounts.tests.factories import ClientFactory, CoachFactory, ConnectionFactory, make_token
from config import views

ROLES = [None, "client", "coach", "staff", "admin"]
LOGGED_IN_ROLES = ["client", "coach", "staff", "admin"]

LOGIN = "login"  # expected: a visitor is redirected to the login page


def role_id(role: str | None) -> str:
    return role or "anonymous"


def login_url(next_path: str) -> str:
    return f"{reverse('account_login')}?next={next_path}"


def template_names(response) -> list[str]:
    return [template.name for template in response.templates if template.name]


def assert_login_redirect(response, path: str) -> None:
    assert response.status_code == 302
    assert response["Location"] == login_url(path)


def assert_product_404(response) -> None:
    assert response.status_code == 404
    assert "errors/404.html" in template_names(response)
    assert "Page not found" in response.content.decode()


def assert_product_403(response) -> None:
    assert response.status_code == 403
    assert "errors/403.html" in template_names(response)
    assert "Not allowed" in response.content.decode()


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body


# --- Pages read with GET --------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    path: str
    template: str
    # role → 200, 404, LOGIN, or a path the role is redirected to
    expected: dict[str | None, int | str]


PAGES = [
    Page(
        "/",
        "home.html",
        {None: 200, "client": 200, "coach": 200, "staff": 200, "admin": 200},
    ),
    Page(
        "/dashboard/",
        "",
        {None: LOGIN, "client": "/client/", "coach": "/coach/", "staff": "/staff/", "admin": "/staff/"},
    ),
    Page(
        "/client/",
        "accounts/client_dashboard.html",
        {None: LOGIN, "client": 200, "coach": 404, "staff": 404, "admin": 200},
    ),
    Page(
        "/coach/",
        "accounts/coach_dashboard.html",
        {None: LOGIN, "client": 404, "coach": 200, "staff": 404, "admin": 200},
    ),
    Page(
        "/staff/",
        "accounts/staff_dashboard.html",
        {None: LOGIN, "client": 404, "coach": 404, "staff": 200, "admin": 200},
    ),
    Page(
        "/profile/",
        "accounts/profile.html",
        {None: LOGIN, "client": 200, "coach": 200, "staff": 200, "admin": 200},
    ),
    Page(
        "/connections/",
        "accounts/connections.html",
        {None: LOGIN, "client": 200, "coach": 200, "staff": 200, "admin": 200},
    ),
]


def page_cases(pages: list[Page]) -> list:
    return [
        pytest.param(page, role, id=f"{page.path}-{role_id(role)}")
        for page in pages
        for role in ROLES
        if role in page.expected
    ]


@pytest.mark.parametrize(("page", "role"), page_cases(PAGES))
def test_page_access_by_role(as_role, page: Page, role: str | None) -> None:
    response = as_role(role).get(page.path)

    expected = page.expected[role]
    if expected == LOGIN:
        assert_login_redirect(response, page.path)
    elif expected == 404:
        assert_product_404(response)
    elif expected == 200:
        assert response.status_code == 200
        assert page.template in template_names(response)
    else:
        assert response.status_code == 302
        assert response["Location"] == expected


@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_coach_settings_access_by_role(as_role, role: str | None) -> None:
    """Only coaches have booking settings. The admin passes the role check but has no coach
    profile to edit, so there is nothing to show: 404, never a server error."""
    response = as_role(role).get("/coach/settings/")

    if role is None:
        assert_login_redirect(response, "/coach/settings/")
    elif role == "coach":
        assert response.status_code == 200
        assert "accounts/coach_settings.html" in template_names(response)
    else:
        assert_product_404(response)


def test_coach_can_save_own_settings(as_role, coach_user: User) -> None:
    response = as_role("coach").post(
        "/coach/settings/",
        {
            "headline": "Career coach",
            "bio": "",
            "allow_firm_booking": "on",
            "firm_booking_threshold_hours": "12",
            "calendar_visibility": "public",
            "minimum_notice_hours": "2",
            "booking_window_days": "14",
            "slot_step_minutes": "30",
            "buffer_before_minutes": "0",
            "buffer_after_minutes": "10",
            "max_sessions_per_day": "6",
            "max_sessions_per_week": "20",
            "cancellation_notice_hours": "24",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/coach/settings/"
    coach_user.coach_profile.refresh_from_db()
    assert coach_user.coach_profile.headline == "Career coach"
    assert coach_user.coach_profile.booking_window_days == 14


@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_admin_site_access_by_role(as_role, role: str | None) -> None:
    """Back-office staff and admins work in the Django admin; nobody else gets its index."""
    response = as_role(role).get("/admin/")

    if role in ("staff", "admin"):
        assert response.status_code == 200
        assert "admin/index.html" in template_names(response)
        assert "Back office" in response.content.decode()
    elif role is None:
        # Visitors sign in through the site's own login form (with its rate limits).
        assert response.status_code == 302
        follow = Client().get("/admin/", follow=True)
        assert follow.status_code == 200
        final_url, _ = follow.redirect_chain[-1]
        assert final_url == f"{reverse('account_login')}?next=%2Fadmin%2F"
    else:
        # Signed-in people who aren't back-office staff: the back office doesn't exist for them.
        follow = as_role(role).get("/admin/", follow=True)
        assert follow.status_code == 404
        assert "Page not found" in follow.content.decode()


@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_health_is_public_and_its_details_are_staffs(as_role, role: str | None) -> None:
    response = as_role(role).get("/health/")

    assert response.status_code == 200
    if role in ("staff", "admin"):
        assert response.json()["database"]["status"] == "ok"
    else:
        assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_api_me_access_by_role(as_role, users_by_role, role: str | None) -> None:
    response = as_role(role).get("/api/v1/me")

    if role is None:
        assert_json_error(response, 401, "unauthenticated")
    else:
        assert response.status_code == 200
        assert response.json()["email"] == users_by_role[role].email


# --- API tokens -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_create_token_by_role(as_role, users_by_role, role: str | None) -> None:
    response = as_role(role).post("/profile/tokens/", {"name": "Calendar script"})

    if role is None:
        assert_login_redirect(response, "/profile/tokens/")
        assert not ApiToken.objects.exists()
        return
    assert response.status_code == 200
    assert "accounts/profile.html" in template_names(response)
    token = ApiToken.objects.get()
    assert token.user == users_by_role[role]
    assert token.name == "Calendar script"
    assert response.context["new_token"].startswith(token.hint)


@pytest.mark.parametrize("role", LOGGED_IN_ROLES)
def test_token_endpoints_refuse_get(as_role, users_by_role, role: str) -> None:
    token, _ = make_token(users_by_role[role])
    http = as_role(role)

    assert http.get("/profile/tokens/").status_code == 405
    assert http.get(f"/profile/tokens/{token.pk}/revoke/").status_code == 405
    assert http.get("/profile/dependents/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_revoke_own_token_by_role(as_role, users_by_role, client_user: User, role: str | None) -> None:
    owner = client_user if role is None else users_by_role[role]
    token, _ = make_token(owner)
    path = f"/profile/tokens/{token.pk}/revoke/"

    response = as_role(role).post(path)

    token.refresh_from_db()
    if role is None:
        assert_login_redirect(response, path)
        assert token.revoked_at is None
    else:
        assert response.status_code == 302
        assert response["Location"] == "/profile/"
        assert token.revoked_at is not None


@pytest.mark.parametrize("role", LOGGED_IN_ROLES)
def test_revoking_somebody_elses_token_is_404(as_role, role: str) -> None:
    """Even the admin: a token is only ever revoked from its owner's profile page."""
    somebody_else = ClientFactory()
    token, _ = make_token(somebody_else)

    response = as_role(role).post(f"/profile/tokens/{token.pk}/revoke/")

    assert_product_404(response)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoking_a_token_that_does_not_exist_is_404(as_role) -> None:
    assert_product_404(as_role("client").post("/profile/tokens/999999/revoke/"))


# --- Dependents ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_add_dependent_by_role(as_role, users_by_role, role: str | None) -> None:
    child = ClientFactory(email="child@example.com")

    response = as_role(role).post("/profile/dependents/", {"email": "child@example.com", "relationship": "parent"})

    if role is None:
        assert_login_redirect(response, "/profile/dependents/")
        assert not GuardianLink.objects.exists()
    else:
        assert response.status_code == 302
        assert response["Location"] == "/profile/"
        link = GuardianLink.objects.get()
        assert (link.guardian, link.dependent, link.relationship) == (users_by_role[role], child, "parent")


def test_add_unknown_dependent_shows_the_error(as_role) -> None:
    response = as_role("client").post("/profile/dependents/", {"email": "nobody@example.com"})

    assert response.status_code == 400
    assert "No account uses that email address" in response.content.decode()
    assert not GuardianLink.objects.exists()


# --- Connections ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_request_connection_by_role(as_role, client_user: User, role: str | None) -> None:
    """Only clients ask coaches to connect; everyone else who can see the page gets 403."""
    coach = CoachFactory(email="open.coach@example.com")

    response = as_role(role).post("/connections/", {"coach": coach.pk, "message": "Hello"})

    if role is None:
        assert_login_redirect(response, "/connections/")
        assert not Connection.objects.exists()
    elif role == "client":
        assert response.status_code == 302
        assert response["Location"] == "/connections/"
        connection = Connection.objects.get()
        assert (connection.client, connection.coach, connection.status) == (
            client_user,
            coach,
            ConnectionStatus.PENDING,
        )
    else:
        assert_product_403(response)
        assert "Only clients can ask to connect with a coach." in response.content.decode()
        assert not Connection.objects.exists()


RESPOND_CASES = [
    pytest.param(decision, role, id=f"{decision}-{role_id(role)}")
    for decision in ("accept", "decline")
    for role in ROLES
]


@pytest.mark.parametrize(("decision", "role"), RESPOND_CASES)
def test_respond_to_connection_by_role(
    as_role, client_user: User, coach_user: User, decision: str, role: str | None
) -> None:
    """The connection is between the ``client`` and the ``coach`` roles' users."""
    connection = ConnectionFactory(client=client_user, coach=coach_user)
    path = f"/connections/{connection.pk}/{decision}/"

    response = as_role(role).post(path)

    connection.refresh_from_db()
    if role is None:
        assert_login_redirect(response, path)
        assert connection.status == ConnectionStatus.PENDING
    elif role == "client":
        # The client sees the connection but may not answer their own request.
        assert_product_403(response)
        assert connection.status == ConnectionStatus.PENDING
    else:
        assert response.status_code == 302
        assert response["Location"] == "/connections/"
        expected = ConnectionStatus.ACCEPTED if decision == "accept" else ConnectionStatus.DECLINED
        assert connection.status == expected
        assert connection.responded_at is not None


@pytest.mark.parametrize("decision", ["accept", "decline"])
@pytest.mark.parametrize("stranger_factory", [ClientFactory, CoachFactory], ids=["client", "coach"])
def test_stranger_responding_to_a_connection_is_404(db, decision: str, stranger_factory) -> None:
    connection = ConnectionFactory()
    stranger = Client()
    stranger.force_login(stranger_factory())

    response = stranger.post(f"/connections/{connection.pk}/{decision}/")

    assert_product_404(response)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.PENDING
    assert connection.responded_at is None


@pytest.mark.parametrize("role", LOGGED_IN_ROLES)
def test_responding_to_a_connection_that_does_not_exist_is_404(as_role, role: str) -> None:
    assert_product_404(as_role(role).post("/connections/999999/accept/"))


def test_responding_twice_keeps_the_first_answer(as_role, client_user: User, coach_user: User) -> None:
    connection = ConnectionFactory(client=client_user, coach=coach_user)
    coach = as_role("coach")
    coach.post(f"/connections/{connection.pk}/accept/")

    response = coach.post(f"/connections/{connection.pk}/decline/", follow=True)

    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACCEPTED
    assert "This request has already been answered." in response.content.decode()


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example.com/", "//evil.example.com/"],
)
def test_respond_ignores_an_offsite_next_url(as_role, client_user: User, coach_user: User, next_url: str) -> None:
    connection = ConnectionFactory(client=client_user, coach=coach_user)

    response = as_role("coach").post(f"/connections/{connection.pk}/accept/", {"next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/connections/"


def test_respond_follows_a_local_next_url(as_role, client_user: User, coach_user: User) -> None:
    connection = ConnectionFactory(client=client_user, coach=coach_user)

    response = as_role("coach").post(f"/connections/{connection.pk}/accept/", {"next": "/coach/"})

    assert response.status_code == 302
    assert response["Location"] == "/coach/"


# --- Error pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES, ids=role_id)
def test_unknown_page_is_the_products_404(as_role, role: str | None) -> None:
    assert_product_404(as_role(role).get("/no-such-page/"))


@pytest.mark.parametrize("role", ROLES, ids=role_id)
@pytest.mark.parametrize("path", ["/api/v1/does-not-exist", "/api/v1/does-not-exist/", "/api/v2/me", "/api/"])
def test_unknown_api_path_is_a_json_404(as_role, path: str, role: str | None) -> None:
    response = as_role(role).get(path)

    assert_json_error(response, 404, "not_found")


def test_api_error_for_wrong_method_is_json(as_role) -> None:
    response = as_role("client").post("/api/v1/me")

    assert_json_error(response, 405, "method_not_allowed")


def test_api_401_has_the_error_shape(db) -> None:
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION="Bearer bk_not-a-real-token")

    body = assert_json_error(response, 401, "unauthenticated")
    assert "Bearer" in body["error"]["message"]


@pytest.mark.parametrize(
    ("handler", "status", "code"),
    [
        (lambda request: views.page_not_found(request, Http404()), 404, "not_found"),
        (lambda request: views.permission_denied(request, PermissionDenied("Staff only.")), 403, "forbidden"),
        (views.server_error, 500, "server_error"),
    ],
    ids=["404", "403", "500"],
)
def test_error_handlers_answer_json_under_api(db, handler, status: int, code: str) -> None:
    """The site-wide handlers (used when an error escapes the API's own handlers)."""
    request = RequestFactory().get("/api/v1/bookings/42")
    request.user = AnonymousUser()

    assert_json_error(handler(request), status, code)


def test_permission_denied_under_api_keeps_its_message(db) -> None:
    request = RequestFactory().get("/api/v1/bookings/42")

    response = views.permission_denied(request, PermissionDenied("Staff only."))

    assert response.status_code == 403
    assert json.loads(response.content) == {"error": {"code": "forbidden", "message": "Staff only."}}


@pytest.mark.parametrize(
    ("handler", "status", "text"),
    [
        (lambda request: views.page_not_found(request, Http404()), 404, "Page not found"),
        (lambda request: views.permission_denied(request, PermissionDenied("Staff only.")), 403, "Staff only."),
        (views.server_error, 500, "<html"),
    ],
    ids=["404", "403", "500"],
)
def test_error_handlers_answer_html_for_pages(db, handler, status: int, text: str) -> None:
    request = RequestFactory().get("/bookings/42/")
    request.user = AnonymousUser()

    response = handler(request)

    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert text in response.content.decode()
