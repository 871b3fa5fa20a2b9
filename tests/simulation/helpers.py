"""A study with a questionnaire and a population with a strong taste for length."""

from annotators.models import CovariateSchema
from tests.factories import stimulus_set_make, study_make

QUESTIONS = [
    {"key": "expertise", "label": "Expertise", "type": "choice",
     "choices": ["little", "some", "expert"]},
    {"key": "english", "label": "English first?", "type": "choice", "choices": ["yes", "no"]},
]  # fmt: skip

LENGTH_LOVERS = """
name = "length-lovers"
seed = 4
[covariates.expertise]
type = "choice"
levels = ["little", "some", "expert"]
probs = [0.5, 0.3, 0.2]
[preferences.length]
log_odds = 1.6
sd = 0.3
by.expertise = { expert = -0.6 }
[behaviour]
position_bias = 0.2
lapse_rate = 0.05
abandon_rate = ABANDON
"""


def population_file(tmp_path, *, abandon: float = 0.0):
    path = tmp_path / "population.toml"
    path.write_text(LENGTH_LOVERS.replace("ABANDON", str(abandon)))
    return path


def simulated_study_make(*, labels_per_annotator: int, replication_factor: int = 10):
    schema = CovariateSchema.objects.create(name="sim-questions", questions=QUESTIONS)
    return study_make(
        stimulus_set=stimulus_set_make(prompts=40),
        labels_per_annotator=labels_per_annotator,
        replication_factor=replication_factor,
        schema=schema,
        min_annotators=2,
    )
