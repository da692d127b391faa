"""What a pip user gets: the LICENSE, the example cases, project URLs, Hypothesis as an extra."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from .conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True)
    return zipfile.ZipFile(next(out.glob("*.whl")))


def test_the_wheel_carries_the_license(wheel: zipfile.ZipFile) -> None:
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License") and "refundrules developers" in license_text
    inside = [name for name in wheel.namelist() if name.endswith("/licenses/LICENSE")]
    assert [wheel.read(name).decode() for name in inside] == [license_text]


def test_the_wheel_carries_every_example_and_its_as_of(wheel: zipfile.ZipFile) -> None:
    prefix = "refundrules/examples/"
    shipped = {name.removeprefix(prefix) for name in wheel.namelist() if name.startswith(prefix)}
    examples = ROOT / "examples"
    on_disk = {p.relative_to(examples).as_posix() for p in examples.rglob("*") if p.is_file()}
    assert shipped == on_disk  # platform folders (examples/ebay/) included


def test_the_wheel_carries_the_shared_parts(wheel: zipfile.ZipFile) -> None:
    # A pack that includes a part (taobao: china_law) must load from an installed wheel too.
    prefix = "refundrules/rules/_shared/"
    shipped = {name.removeprefix(prefix) for name in wheel.namelist() if name.startswith(prefix)}
    shared = ROOT / "rules" / "_shared"
    on_disk = {p.relative_to(shared).as_posix() for p in shared.rglob("*.yaml")}
    assert "china_law/part.yaml" in on_disk
    assert on_disk <= shipped


def test_metadata_has_urls_and_hypothesis_only_as_an_extra(wheel: zipfile.ZipFile) -> None:
    metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith("METADATA"))).decode()
    assert "Project-URL: Homepage, " in metadata and "Project-URL: Issues, " in metadata
    hypothesis = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: hyp")]
    assert hypothesis and all("extra ==" in line for line in hypothesis)
    assert "Requires-Dist: hypothesis>=6.100; extra == 'authoring'" in hypothesis
