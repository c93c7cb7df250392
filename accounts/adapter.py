"""Sign-in throttling that slows password guessing without handing anyone a way to lock a
person out (django-allauth's adapter: ``ACCOUNT_ADAPTER``).

allauth's own ``login_failed`` limit counts failures per account: five wrong passwords
typed by anyone, from anywhere, and the owner is refused for five minutes. Here every
attempt is counted in the buckets below (``ACCOUNT_RATE_LIMITS``) before the password is
checked, and given back when it is right, as allauth does:

- a browser that has signed in to the account before (the signed, long-lived "known
  device" cookie set at each successful sign-in) is counted only against itself:
  ``login_failed_known_device``, per device and account. Nothing another person does
  elsewhere, or from the same address, stops it.
- any other attempt is counted per client address (``login_failed_address``), per address
  and account (``login_failed_address_account``), then per account
  (``login_failed_account``): a ceiling over all unknown devices, set well above what one
  address may try, so that only guessing from many places reaches it. Even then the owner
  gets in from a known device, or through the password reset, which signs them in
  (``ACCOUNT_LOGIN_ON_PASSWORD_RESET``) and so makes that browser known.

An attempt refused by one bucket is not counted in the ones after it, so guesses refused
for one address never count towards the account's ceiling.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter

# The counting itself is allauth's (the same buckets, cache and lock as its own limits);
# its public ``consume`` answers only yes or no, and a right password must give back
# what its attempt took.
from allauth.core.internal.ratelimit import RateLimitUsage, consume, get_ip
from django import forms
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.signing import BadSignature
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from accounts.language import in_language_of
from accounts.language import supported as supported_language

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_SALT = "accounts.adapter.known-device"
KNOWN_DEVICE_MAX_ACCOUNTS = 10  # a family or shared computer

ACCOUNT_CEILING_REACHED = _(
    "Too many failed sign-ins to this account from other places. Sign in from a device you "
    "have used before, or reset your password to sign in from this one."
)


@dataclass
class KnownDevice:
    """This browser's id and the accounts (as digests) that have signed in from it."""

    id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    accounts: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, request: HttpRequest) -> KnownDevice | None:
        try:
            value = request.get_signed_cookie(
                KNOWN_DEVICE_COOKIE, salt=KNOWN_DEVICE_SALT, max_age=known_device_max_age()
            )
        except (KeyError, BadSignature):
            return None
        device_id, _sep, accounts = value.partition("|")
        if not device_id:
            return None
        return cls(id=device_id, accounts=[digest for digest in accounts.split(",") if digest])

    def remember(self, account: str) -> None:
        self.accounts = [account, *(digest for digest in self.accounts if digest != account)]
        del self.accounts[KNOWN_DEVICE_MAX_ACCOUNTS:]

    def set_on(self, response: HttpResponse) -> None:
        response.set_signed_cookie(
            KNOWN_DEVICE_COOKIE,
            f"{self.id}|{','.join(self.accounts)}",
            salt=KNOWN_DEVICE_SALT,
            max_age=known_device_max_age(),
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


def known_device_max_age() -> int:
    return settings.LOGIN_KNOWN_DEVICE_DAYS * 24 * 3600


def account_digest(login: str) -> str:
    """Names an account in the cookie and in the cache keys without its email address."""
    return salted_hmac(KNOWN_DEVICE_SALT, login.strip().lower()).hexdigest()[:32]


class AccountAdapter(DefaultAccountAdapter):
    _throttle_usage: RateLimitUsage | None = None

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Counts this attempt in its buckets (see the module) or refuses it. Replaces
        allauth's ``login_failed`` count, which would let anyone lock the owner out."""
        account = account_digest(credentials.get("email") or credentials.get("username") or "")
        device = KnownDevice.of(request)
        if device is not None and account in device.accounts:
            buckets = [("login_failed_known_device", f"{device.id}:{account}")]
        else:
            buckets = [
                ("login_failed_address", None),
                ("login_failed_address_account", f"{get_ip(request)}:{account}"),
                ("login_failed_account", account),
            ]
        taken = RateLimitUsage(usage=[])
        for action, key in buckets:
            usage = consume(request, app="allauth.account", action=action, key=key)
            if usage is None:
                self._throttle_usage = None
                if action == "login_failed_account":
                    raise forms.ValidationError(ACCOUNT_CEILING_REACHED, code="too_many_login_attempts")
                raise self.validation_error("too_many_login_attempts")
            taken.usage.extend(usage.usage)
        self._throttle_usage = taken

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        self._throttle_usage = None
        user = super().authenticate(request, **credentials)
        if user is not None and self._throttle_usage is not None:
            # The right password gives back what its attempt took (but does not wipe the
            # count, or a guesser could sign in to their own account between guesses).
            self._throttle_usage.rollback()
        self._throttle_usage = None
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """The account emails (sign-up, added address, password reset…) name the site as
        settings do (SITE_NAME, SITE_URL), not by the host the request came to; their
        wording and layout are templates/account/email/."""
        site = SimpleNamespace(name=settings.SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc)
        context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context, "current_site": site}
        # In the account holder's own language when they chose one; else the page's (the
        # person asking is at the browser).
        user = context.get("user")
        if supported_language(getattr(user, "language", "")):
            with in_language_of(user):
                super().send_mail(template_prefix, email, context)
            return
        super().send_mail(template_prefix, email, context)

    def post_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse:
        """Every sign-in (password, email confirmation, password reset) makes this browser
        a known device of the account."""
        response = super().post_login(request, user, **kwargs)
        device = KnownDevice.of(request) or KnownDevice()
        device.remember(account_digest(user.email))
        device.set_on(response)
        return response
