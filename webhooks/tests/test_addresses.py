"""Endpoints never point into the server's own networks: an address is refused when it is
saved and again at each send (a name may resolve elsewhere by then), https only, and a
redirect is never followed. No name server is asked: ``socket.getaddrinfo`` is stubbed
for the made-up names."""

from __future__ import annotations

import socket

import pytest

from accounts.tests.factories import StaffFactory
from config import outbound
from webhooks import services as webhooks
from webhooks.models import DeliveryStatus, WebhookEndpoint

pytestmark = pytest.mark.django_db

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture
def names(monkeypatch):
    """Made-up host names and what they resolve to; any other name is unknown."""
    table: dict[str, str] = {}

    def resolve(host, port, *args, **kwargs):
        if host in table:
            address = table[host]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        if host.replace(".", "").isdigit() or ":" in host:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)  # a literal address: no lookup
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return table


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.1.2.3:8443/hook",
        "https://10.0.0.8/hook",
        "https://172.16.5.4/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://100.64.0.1/hook",
    ],
)
def test_private_and_local_addresses_are_refused(settings, names, url):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.check_url(url)
    assert refused.value.code == "private_address"
    assert "private network" in refused.value.message


def test_a_name_that_resolves_to_a_private_address_is_refused(settings, names):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    names["intranet.example.test"] = "10.1.2.3"
    names["metadata.example.test"] = "169.254.169.254"
    names["v6.example.test"] = "::1"
    for host in names:
        with pytest.raises(webhooks.WebhookError) as refused:
            webhooks.check_url(f"https://{host}/hook")
        assert refused.value.code == "private_address"


def test_a_public_name_over_https_is_accepted_and_plain_http_is_not(settings, names):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    names["hooks.example.com"] = "93.184.216.34"
    assert webhooks.check_url("  https://hooks.example.com/booking  ") == "https://hooks.example.com/booking"
    for url in ("http://hooks.example.com/booking", "ftp://hooks.example.com/", "webcal://hooks.example.com/"):
        with pytest.raises(webhooks.WebhookError) as refused:
            webhooks.check_url(url)
        assert refused.value.code == "bad_address"
    with pytest.raises(webhooks.WebhookError) as unknown:
        webhooks.check_url("https://nowhere.example.test/")
    assert unknown.value.code == "no_such_host"


def test_the_address_is_checked_again_at_each_send(settings, names):
    """Saved while its name was public; by the time of the send it resolves to this very
    machine (DNS rebinding): the guard refuses it before any connection."""
    names["rebind.example.test"] = "93.184.216.34"
    settings.OUTBOUND_ALLOW_PRIVATE = False
    endpoint = webhooks.create(StaffFactory(), url="https://rebind.example.test/hook", event_types=["booking.created"])
    names["rebind.example.test"] = "127.0.0.1"
    delivery = webhooks.ping(endpoint)
    assert delivery.status == DeliveryStatus.FAILED and delivery.response_status is None
    assert "private network" in delivery.error


def test_a_redirect_is_not_followed(receiver):
    target = receiver.answer("/elsewhere", 200)
    url = receiver.answer("/hook", 307, location=target)
    endpoint = WebhookEndpoint.objects.create(owner=StaffFactory(), url=url, event_types=["booking.created"])
    delivery = webhooks.ping(endpoint)
    assert delivery.status == DeliveryStatus.FAILED and delivery.response_status == 307
    assert "redirect" in delivery.error
    assert len(receiver.at("/hook")) == 1 and receiver.at("/elsewhere") == []


def test_the_outbound_post_refuses_a_private_address_before_connecting(settings, names):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(outbound.OutboundError) as refused:
        outbound.post("http://127.0.0.1:9/hook", body=b"{}", timeout=1, max_bytes=100)
    assert refused.value.reason == "private_address"
