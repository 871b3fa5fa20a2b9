"""API bodies for annotators. Validation only: the services decide."""

from rest_framework import serializers

from collection.models import Label


class LabelInSerializer(serializers.Serializer):
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
        unknown = set(self.initial_data) - set(self.fields)
        if unknown:
            raise serializers.ValidationError(
                f"unknown fields: {', '.join(sorted(unknown))}; send only " + ", ".join(self.fields)
            )
        if attrs["choice"] != Label.Choice.TIE and attrs.get("strength") is None:
            raise serializers.ValidationError(
                {"strength": "say how much better the chosen response is: 1, 2 or 3"}
            )
        return attrs


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class PairSerializer(serializers.Serializer):
    assignment_id = serializers.IntegerField()
    prompt_html = serializers.CharField(help_text="Sanitised HTML of the prompt.")
    left_html = serializers.CharField(help_text="Sanitised HTML of the response shown left.")
    right_html = serializers.CharField(help_text="Sanitised HTML of the response shown right.")
    expires_at = serializers.DateTimeField()


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


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What is wrong and what to do, in one sentence.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For a 400: the messages of each field that was refused.",
    )
