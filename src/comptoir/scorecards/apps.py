from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "comptoir.scorecards"
    label = "scorecards"
    verbose_name = "Indicateurs vendeurs"
