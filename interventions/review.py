"""People review generated pairs: a word-level diff of control and treated, and verdicts
recorded with reviewer, time and reason (append-only in spirit: a new verdict replaces the
last one, and who gave it when is kept on the stimulus)."""

import difflib
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from interventions.models import Stimulus

# Words with their trailing whitespace, so a diff of tokens rebuilds the text exactly.
_TOKENS = re.compile(r"\S+\s*|\s+")


class ReviewRefused(Exception):
    """A verdict that cannot be recorded; the message says what to do."""


@dataclass(frozen=True)
class EditDiff:
    control_html: SafeString  # the control text, removed words inside <del>
    treated_html: SafeString  # the treated text, added words inside <ins>
    removed: int  # words removed
    added: int  # words added


def edit_diff(control: str, treated: str) -> EditDiff:
    """Word-level diff for side-by-side reading. Removed words are struck through and
    added ones underlined (<del>, <ins>), with "[-" "-]" and "[+" "+]" around them in the
    text itself, so the edits read without colour and in a screen reader. Every text is
    escaped; only the markers are markup."""
    a, b = _TOKENS.findall(control), _TOKENS.findall(treated)
    left: list[str] = []
    right: list[str] = []
    removed = added = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            left.append(escape(old))
            right.append(escape(new))
            continue
        if old:
            left.append(_marked("del", "-", old))
            removed += i2 - i1
        if new:
            right.append(_marked("ins", "+", new))
            added += j2 - j1
    return EditDiff(
        control_html=mark_safe("".join(left)),  # noqa: S308 - every text part escaped above
        treated_html=mark_safe("".join(right)),  # noqa: S308
        removed=removed,
        added=added,
    )


def _marked(tag: str, sign: str, text: str) -> str:
    # Trailing whitespace (a paragraph break) stays outside the marker, so the closing
    # "-]" or "+]" ends the edit's own line instead of starting the next.
    body = text.rstrip()
    return f"<{tag}>[{sign}{escape(body)}{sign}]</{tag}>{escape(text[len(body) :])}"


def stimuli_review(
    *, stimulus_ids: list[int], approve: bool, reason: str, reviewer_id: int | None
) -> int:
    """Record one verdict on each stimulus; returns how many were reviewed. A rejection
    needs a reason. A pair that failed its manipulation check cannot be approved (it is
    never served); nothing is written if any of them is refused."""
    reason = reason.strip()
    if not approve and not reason:
        raise ReviewRefused("say why the pairs are rejected: the reason is kept with them")
    with transaction.atomic():
        stimuli = Stimulus.objects.select_for_update().filter(pk__in=stimulus_ids)
        if approve:
            failed = [s.pk for s in stimuli if s.check_status != Stimulus.CheckStatus.PASSED]
            if failed:
                raise ReviewRefused(
                    f"stimuli {failed[:10]} failed their manipulation check and are never "
                    "served; approve only pairs that passed it"
                )
        return stimuli.update(
            review_status=(
                Stimulus.ReviewStatus.APPROVED if approve else Stimulus.ReviewStatus.REJECTED
            ),
            review_reason="" if approve else reason,
            reviewed_by_id=reviewer_id,
            reviewed_at=timezone.now(),
        )
