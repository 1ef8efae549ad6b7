from django.apps import AppConfig


class TimersConfig(AppConfig):
    name = "comptoir.timers"
    label = "timers"

    def ready(self) -> None:
        from comptoir.core import clock
        from comptoir.timers.sandbox import stored_offset

        clock.set_offset_source(stored_offset)
