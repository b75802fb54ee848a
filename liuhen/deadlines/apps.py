from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    name = "liuhen.deadlines"
    label = "deadlines"
    verbose_name = "法定期限"

    def ready(self):
        # Imported here, not at the top: models may only be imported once the registry is ready.
        from liuhen.cases import events as case_events
        from liuhen.deadlines import services

        # Domain event (liuhen.core.domain_events): store the case's open deadlines (the
        # dashboard and /deadlines/ query them) whenever a fact of it changes.
        case_events.case_changed.subscribe(services.case_changed)
