"""refundrules timeline / graph: the text, the pictures (SVG parses, PNG opens) and the extra."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from datetime import datetime
from pathlib import Path

import pytest

import refundrules
from refundrules import MissingExtraError, draw_flow, draw_timeline, pack_flow
from refundrules.exceptions import CaseError

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "examples" / "05_seller_refused_escalation_open.yaml"
AS_OF = datetime.fromisoformat("2025-06-04T10:00:00+08:00")
PICTURES = ROOT / "docs" / "pictures"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _renders(path: Path) -> None:
    if path.suffix == ".svg":
        root = ElementTree.parse(path).getroot()
        assert root.tag.endswith("svg")
        assert len(list(root.iter())) > 50  # drawn shapes, not an empty canvas
    else:
        from matplotlib import image

        pixels = image.imread(path)
        assert pixels.shape[0] > 200 and pixels.shape[1] > 400
        assert pixels.std() > 0.01  # not one flat colour


@pytest.mark.parametrize(
    "name", ["timeline-05.svg", "timeline-05.png", "graph-pinduoduo.svg", "graph-pinduoduo.png"]
)
def test_the_committed_pictures_render(name: str) -> None:
    path = PICTURES / name
    if path.suffix == ".png":
        assert path.read_bytes()[:8] == PNG_SIGNATURE
    _renders(path)


def test_the_timeline_lists_the_past_then_the_running_deadlines(tmp_path: Path) -> None:
    pack = refundrules.load_rule_pack("pinduoduo")
    case = refundrules.load_case(CASE)
    found = pack.timeline(case, AS_OF, language="en")
    times = [entry.at for entry in found.entries]
    assert times == sorted(times)
    past = [entry for entry in found.entries if entry.kind == "past"]
    deadlines = [entry for entry in found.entries if entry.kind == "deadline"]
    assert all(entry.at <= AS_OF for entry in past)
    prediction = pack.predict(case, AS_OF)
    assert [entry.label for entry in deadlines] == [d.id for d in prediction.deadlines]
    assert all(entry.if_missed and entry.if_missed in entry.text for entry in deadlines)
    assert "seller_refused (package_opened)" in found.text
    assert "买家付款" in found.texts["zh"]
    for suffix in ("svg", "png"):
        draw_timeline(found, tmp_path / f"t.{suffix}")
        _renders(tmp_path / f"t.{suffix}")


def test_the_graph_of_a_pack_follows_its_test_cases(tmp_path: Path) -> None:
    flow = pack_flow(refundrules.load_rule_pack(ROOT / "tests" / "packs" / "fictional_marketplace"))
    assert flow.edges and all(
        edge.source == "start" or edge.source in flow.stages for edge in flow.edges
    )
    draw_flow(flow, tmp_path / "g.svg")
    _renders(tmp_path / "g.svg")


def test_a_picture_other_than_svg_or_png_is_refused(tmp_path: Path) -> None:
    pack = refundrules.load_rule_pack("pinduoduo")
    found = pack.timeline(refundrules.load_case(CASE), AS_OF)
    with pytest.raises(CaseError, match=r"\.svg or \.png"):
        draw_timeline(found, tmp_path / "t.gif")


def test_without_matplotlib_a_picture_names_the_plot_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    pack = refundrules.load_rule_pack("pinduoduo")
    found = pack.timeline(refundrules.load_case(CASE), AS_OF)
    with pytest.raises(MissingExtraError, match=r"refundrules\[plot\]"):
        draw_timeline(found, tmp_path / "t.svg")


def test_cli_timeline_and_graph_write_their_pictures(tmp_path: Path) -> None:
    for argv in (
        ["timeline", str(CASE), "--as-of", AS_OF.isoformat(), "--picture", str(tmp_path / "t.png")],
        ["graph", "pinduoduo", "--picture", str(tmp_path / "g.png"), "--format", "json"],
    ):
        run = subprocess.run(
            [sys.executable, "-m", "refundrules", *argv],
            capture_output=True,
            env={"PYTHONIOENCODING": "ascii", "PATH": "", "MPLBACKEND": "Agg"},
            check=False,
        )
        assert run.returncode == 0, run.stderr
    _renders(tmp_path / "t.png")
    _renders(tmp_path / "g.png")
