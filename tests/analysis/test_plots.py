import warnings
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from analysis import plots


def test_recruitment_within_a_minute_draws_without_a_date_locator_warning():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for times in ([start], [start, start + timedelta(milliseconds=5)]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            svg = plots.figure_bytes(
                plots.recruitment_figure(
                    joined=times, labelled=times, label_target=10, annotator_target=2
                ),
                "svg",
            )
        assert "target 10" in svg.decode() and ET.fromstring(svg).tag.endswith("svg")


def test_a_long_history_is_thinned_to_sixty_snapshots_keeping_the_newest():
    history = [plots.Point(k, 0.1, None, None, None, None) for k in range(1000)]
    kept = plots._thin(history)
    assert 50 <= len(kept) <= 61 and kept[0] is history[0] and kept[-1] is history[-1]
    assert plots._thin(history[:60]) == history[:60]


def test_names_are_escaped_in_the_svg():
    rows = [plots.Interval("<script>alert(1)</script>", 0.1, 0.0, 0.2)]
    svg = plots.figure_bytes(plots.forest_figure(rows=rows), "svg")
    root = ET.fromstring(svg)
    assert "script" not in {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert "<script>alert(1)</script>" in "".join(root.itertext())
