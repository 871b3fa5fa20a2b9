from django.apps import AppConfig


class SimulationConfig(AppConfig):
    name = "simulation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from analysis.results_sections import results_section_register
        from simulation.planning_section import simulated_plan_section
        from simulation.results_section import truth_section

        results_section_register(truth_section)
        results_section_register(simulated_plan_section, page="planning")
