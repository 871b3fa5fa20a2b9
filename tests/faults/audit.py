"""Print, as one JSON line, a study's stored estimates beside a from-scratch recompute.

Run in a subprocess with the deployment's environment (its own database):
``python -m tests.faults.audit <slug>``. ``settled`` is true when the refresh has folded
every label and each intervention's stored effect equals the estimator run on the raw
labels (relative 1e-9), with the same number of labels.
"""

import json
import sys


def main(slug: str) -> None:
    import django

    django.setup()
    from analysis.models import Estimate, RefreshState
    from collection.models import Label, Study
    from tests.analysis.helpers import from_scratch

    study = Study.objects.get(slug=slug)
    newest = Label.objects.filter(study=study).order_by("-pk").values_list("pk", flat=True)
    state = RefreshState.objects.filter(study=study).first()
    rows = {}
    settled = state is not None and newest.first() == state.watermark
    names = sorted(
        {
            name
            for s in study.stimulus_sets.all()
            for name in s.interventions.values_list("name", flat=True)
        }
    )
    for name in names:
        stored = (
            Estimate.objects.filter(
                study=study, intervention__name=name, estimand="amce", subgroup="all"
            )
            .order_by("pk")
            .last()
        )
        try:
            fit = from_scratch(study, name)
        except ValueError as error:  # too few labels for the estimator
            rows[name] = {"scratch": str(error), "stored": stored is not None}
            continue
        row = {"scratch_point": fit.amce.point, "scratch_n": fit.n}
        if stored is not None:
            row |= {"stored_point": stored.point, "stored_n": stored.n_labels}
        same = (
            stored is not None
            and stored.n_labels == fit.n
            and (abs(stored.point - fit.amce.point) <= 1e-9 * max(1.0, abs(fit.amce.point)))
        )
        settled = settled and (same or fit.n == 0)
        rows[name] = row
    print(
        json.dumps(
            {
                "settled": settled,
                "newest": newest.first(),
                "watermark": getattr(state, "watermark", None),
                "rows": rows,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
