"""The markdown data card shipped with every export.

Collection may not import analysis, so the effect-estimates section is handed in as
markdown by the caller (the analysis app's export task composes it from its latest
snapshot); everything else is read here.
"""

from collections import Counter

from annotators.models import CovariateResponse
from collection.models import Study

NO_ESTIMATES = "No estimate was available when this export was made."


def covariate_distributions(*, study: Study) -> list[str]:
    """Markdown lines: per question, how many annotators of the study gave each answer
    (choice questions), or the range and mean (number questions)."""
    schema = study.covariate_schema
    if schema is None:
        return ["The study asked no questionnaire."]
    questions = [q for q in schema.questions if isinstance(q, dict) and "key" in q]
    choices: dict[str, Counter[str]] = {q["key"]: Counter() for q in questions}
    numbers: dict[str, list[float]] = {}
    answers = CovariateResponse.objects.filter(
        schema=schema, annotator__enrollments__study=study
    ).values_list("answers", flat=True)
    annotators = 0
    for answer in answers.iterator(chunk_size=2000):
        annotators += 1
        for q in questions:
            value = (answer or {}).get(q["key"])
            if value is None or value == "":
                choices[q["key"]]["(no answer)"] += 1
            elif q.get("type") == "number" and isinstance(value, int | float):
                s = numbers.setdefault(q["key"], [0, 0.0, value, value])
                s[0] += 1
                s[1] += value
                s[2], s[3] = min(s[2], value), max(s[3], value)
            elif q.get("type") == "choice":
                choices[q["key"]][str(value)] += 1
            else:
                choices[q["key"]]["(free text)"] += 1
    lines = [f"{annotators} annotators answered the questionnaire *{schema.name}*.", ""]
    for q in questions:
        key = q["key"]
        lines.append(f"- **{key}** ({q.get('label', key)}):")
        if key in numbers:
            n, total, lo, hi = numbers[key]
            lines.append(f"  {int(n)} numeric answers, mean {total / n:.3g}, range {lo} to {hi}")
        parts = [f"{answer}: {n}" for answer, n in sorted(choices[key].items())]
        if parts:
            lines.append("  " + ", ".join(parts))
    return lines


def datacard(
    *,
    study: Study,
    fmt: str,
    file_format: str,
    options: dict[str, object],
    counts: dict[str, object],
    rows: int,
    estimates_markdown: str | None,
) -> str:
    propensity = counts.get("propensity") or {}
    assert isinstance(propensity, dict)
    lines = [
        f"# Data card: {study.title}",
        "",
        f"Study `{study.slug}`, export format `{fmt}` as {file_format}: {rows} rows from "
        f"{counts['exported']} labels (of {counts['labels']} current labels). Every column "
        "is described in `codebook.json`.",
        "",
        "## Design",
        "",
        f"- Randomisation design: {study.get_design_name_display()} "
        f"(parameters {study.design_params or '{}'})",
        f"- Left/right order: {study.get_order_scheme_display()}",
        f"- Replication k: {study.replication_factor}; labels per annotator: "
        f"{study.labels_per_annotator}; attention-check rate: {study.attention_check_rate}",
        f"- Estimand: {study.get_estimand_display()}; ties: {study.get_ties_display()}; "
        f"strength: {study.get_strength_display()}",
        f"- Stimulus sets: {', '.join(s.name for s in study.stimulus_sets.all()) or 'none'}",
        "",
        "## Randomisation",
        "",
        "Every label carries the logged probability of its assignment (`propensity` = "
        "`p_stimulus` * `p_order`) and `weight` = 1 / propensity.",
        "",
        "| design | labels | mean propensity | min | max |",
        "|---|---|---|---|---|",
    ]
    for design, s in propensity.items():
        lines.append(
            f"| {design} | {s['labels']} | {s['mean']:.4g} | {s['min']:.4g} | {s['max']:.4g} |"
        )
    lines += ["", "## Covariate distributions", "", *covariate_distributions(study=study)]
    lines += ["", "## Effect estimates", "", estimates_markdown or NO_ESTIMATES]
    lines += [
        "",
        "## Ties and filters",
        "",
        f"- Options: `{options}`",
        f"- Ties among the current labels: {counts['ties']}",
        f"- Ties without a row in this format: {counts.get('ties_without_rows', 0)}"
        + (
            " (KTO cannot express a tie)"
            if fmt == "kto"
            else " (the study leaves ties out of its outcome)"
        ),
        f"- Ties left out by the filter: {counts['ties_filtered']}",
        f"- Attention checks left out: {counts['attention_checks_filtered']}",
        f"- Failed attention checks left out: {counts['attention_failures_filtered']}",
        f"- Annotators below the attention bar: {counts['low_quality_annotators']}, "
        f"their labels left out: {counts['low_quality_labels_filtered']}",
        "",
    ]
    return "\n".join(lines)
