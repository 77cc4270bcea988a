from django.apps import AppConfig
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in, user_logged_out


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"

    def ready(self) -> None:
        from portal.sessions import touched_at_login

        user_logged_out.connect(say_logged_out, dispatch_uid="accounts.say_logged_out")
        user_logged_in.connect(touched_at_login, dispatch_uid="accounts.touched_at_login")


def say_logged_out(sender, request, user, **kwargs) -> None:
    if request is not None:
        messages.info(request, "You have logged out.")
