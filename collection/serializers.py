"""API bodies for annotators. Validation only: the services decide."""

from rest_framework import serializers

from collection.models import CheckAnswer, Label


class StrictSerializer(serializers.Serializer):
    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                f"unknown fields: {', '.join(sorted(unknown))}; send only " + ", ".join(self.fields)
            )
        return attrs


class LabelInSerializer(StrictSerializer):
    assignment_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    submission_id = serializers.UUIDField(
        help_text="Client-chosen idempotency key: a replay returns the original label."
    )
    choice = serializers.ChoiceField(choices=Label.Choice.choices)
    strength = serializers.IntegerField(
        min_value=1,
        max_value=3,
        required=False,
        allow_null=True,
        default=None,
        help_text="1-3; required unless choice is tie, where it is ignored.",
    )
    rationale = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    time_on_task_ms = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**31 - 1, default=None
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs["choice"] != Label.Choice.TIE and attrs.get("strength") is None:
            raise serializers.ValidationError(
                {"strength": "say how much better the chosen response is: 1, 2 or 3"}
            )
        return attrs


class CheckInSerializer(StrictSerializer):
    """A pretest's answers about one pair."""

    assignment_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    submission_id = serializers.UUIDField(
        help_text="Client-chosen idempotency key: a replay returns the original answers."
    )
    identified = serializers.ChoiceField(
        choices=CheckAnswer.Identified.choices,
        help_text="Which response shows the intended attribute: left (A), right (B) or none.",
    )
    same_meaning = serializers.BooleanField(
        help_text="Apart from that, do the two responses say the same thing?"
    )
    time_on_task_ms = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**31 - 1, default=None
    )


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class QuestionsSerializer(serializers.Serializer):
    identified = serializers.CharField(help_text="e.g. 'Which response is more hedged?'")
    same_meaning = serializers.CharField()


class PairSerializer(serializers.Serializer):
    assignment_id = serializers.IntegerField()
    prompt_html = serializers.CharField(help_text="Sanitised HTML of the prompt.")
    left_html = serializers.CharField(help_text="Sanitised HTML of the response shown left.")
    right_html = serializers.CharField(help_text="Sanitised HTML of the response shown right.")
    expires_at = serializers.DateTimeField()
    questions = QuestionsSerializer(
        required=False, help_text="Pretests only: the check questions to answer (see /checks/)."
    )


class NextOutSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["pair", "done", "no_work"],
        help_text="pair: label it; done: quota met (completion_code set); no_work: none left.",
    )
    pair = PairSerializer(required=False, allow_null=True)
    completion_code = serializers.CharField(required=False, allow_null=True)
    progress = ProgressSerializer()


class LabelOutSerializer(serializers.Serializer):
    label_id = serializers.IntegerField()
    replayed = serializers.BooleanField(help_text="True when this submission id was seen before.")
    completed = serializers.BooleanField(help_text="The annotator's quota is met.")
    completion_code = serializers.CharField(required=False, allow_null=True)
    progress = ProgressSerializer()
    next = NextOutSerializer(
        required=False,
        allow_null=True,
        help_text="Until the quota is met: what POST next/ would answer now, so a client "
        "shows the next pair without a second request.",
    )


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What is wrong and what to do, in one sentence.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For a 400: the messages of each field that was refused.",
    )
