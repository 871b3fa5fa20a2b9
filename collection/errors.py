class LabelRejected(Exception):
    """A label that cannot be stored; the message says why and what to do."""


class EnrollmentClosed(Exception):
    """The study is not accepting annotators; the message says why."""


class EnrollmentNotReady(Exception):
    """The annotator has a step to take (consent, questionnaire) before receiving pairs."""


class EnrollmentRefused(Exception):
    """An entry that would hand someone else's place in the study to this browser (a known
    Prolific id with another session); the message tells the participant what to do."""
