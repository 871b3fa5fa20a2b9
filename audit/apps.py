from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Reward-model audits"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from analysis.results_sections import results_section_register
        from audit.results_section import audit_section

        results_section_register(audit_section)
