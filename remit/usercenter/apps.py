from django.apps import AppConfig


class UserCenterConfig(AppConfig):
    name = "remit.usercenter"
    label = "usercenter"
    verbose_name = "User Center"
