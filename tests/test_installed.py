"""Installed packs: bundled ones and those a distribution installs through the
``refundrules.packs`` entry point; a folder in the working directory never shadows one."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import refundrules
from refundrules._cli import main
from refundrules._installed import installed_packs, looks_like_path
from refundrules._registry import installed_profiles, profile_problems
from refundrules.exceptions import RulePackError

from .conftest import PDD_PACK, ROOT

MAPLE = ROOT / "tests" / "packs" / "fictional_marketplace"


def install_distribution(site: Path, entries: dict[str, str], packs: dict[str, Path]) -> None:
    """A real (unpacked) distribution on sys.path: a package holding pack folders and a
    dist-info whose entry_points.txt declares them, as pip would leave it."""
    package = site / "acme_refund_packs"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name, source in packs.items():
        shutil.copytree(source, package / name)
        (package / name / "__init__.py").write_text("", encoding="utf-8")
    info = site / "acme_refund_packs-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-refund-packs\nVersion: 1.0\n", encoding="utf-8"
    )
    lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[refundrules.packs]\n{lines}", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    forget_the_distribution()
    installed_profiles.cache_clear()
    yield folder
    installed_profiles.cache_clear()
    forget_the_distribution()


def forget_the_distribution() -> None:
    """Each test installs its own acme_refund_packs: none imported by an earlier one stays."""
    for name in [name for name in sys.modules if name.split(".")[0] == "acme_refund_packs"]:
        del sys.modules[name]


def test_a_pack_installed_through_an_entry_point_loads_by_name(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_distribution(site, {"maple": "acme_refund_packs.maple"}, {"maple": MAPLE})
    installed = installed_packs()["maple"]
    assert installed.origin == "entry point"
    assert installed.source == "acme-refund-packs 1.0 (entry point maple = acme_refund_packs.maple)"
    pack = refundrules.load_rule_pack("maple")
    assert pack.platform == "maple_market"
    assert pack.ref.content_hash == refundrules.load_rule_pack(MAPLE).ref.content_hash
    # its platform is installed: its cases validate without naming the pack
    assert "maple_market" in installed_profiles()
    with refundrules.Engine() as engine:
        assert {info.id for info in engine.packs()} >= {"pinduoduo", pack.id}
    assert main(["packs"]) == 0
    out = capsys.readouterr().out
    assert "from: bundled" in out
    assert "from: acme-refund-packs 1.0 (entry point maple = acme_refund_packs.maple)" in out
    assert main(["packs", "--format", "json"]) == 0
    listed = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    assert listed["maple"]["platform"] == "maple_market"
    assert listed["maple"]["versions"][0]["content_hash"] == pack.ref.content_hash
    assert listed["pinduoduo"]["source"] == "bundled"


def test_an_entry_point_never_replaces_a_bundled_pack(site: Path) -> None:
    install_distribution(site, {"pinduoduo": "acme_refund_packs.fake"}, {"fake": MAPLE})
    assert installed_packs()["pinduoduo"].origin == "bundled"
    assert refundrules.load_rule_pack("pinduoduo").platform == "pinduoduo"


def test_an_entry_point_that_leads_nowhere_is_a_pack_error(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install_distribution(
        site,
        {"ghost": "acme_refund_packs.ghost", "empty": "acme_refund_packs"},
        {},
    )
    with pytest.raises(RulePackError, match="cannot be imported"):
        refundrules.load_rule_pack("ghost")
    with pytest.raises(RulePackError, match=r"has no pack\.yaml"):
        refundrules.load_rule_pack("empty")
    assert main(["packs", "--format", "json"]) == 4
    listed = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    assert "cannot be imported" in str(listed["ghost"]["error"])
    assert "versions" in listed["pinduoduo"]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("pinduoduo", False),
        ("my-pack", False),
        ("./my-pack", True),
        ("rules/pinduoduo", True),
        ("/abs/pack", True),
        (".hidden", True),
        ("~", True),
        ("~/packs/x", True),
        ("~user", True),
    ],
)
def test_a_path_must_look_like_a_path(text: str, path: bool) -> None:
    assert looks_like_path(text) is path


def test_a_folder_in_the_working_directory_never_shadows_an_installed_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "pinduoduo"
    shutil.copytree(PDD_PACK, local)
    params = local / "parameters.yaml"
    params.write_text(
        params.read_text(encoding="utf-8").replace(
            "low_value_threshold:\n    value: 50", "low_value_threshold:\n    value: 10"
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    bundled = refundrules.load_rule_pack("pinduoduo")
    local_pack = refundrules.load_rule_pack("./pinduoduo")
    assert bundled.ref.content_hash != local_pack.ref.content_hash
    assert bundled.ref.content_hash == refundrules.load_rule_pack(PDD_PACK).ref.content_hash
    # a bare word that is no installed pack is not read from the folder of that name either
    shutil.copytree(PDD_PACK, tmp_path / "my-pack")
    with pytest.raises(RulePackError) as caught:
        refundrules.load_rule_pack("my-pack")
    assert "no installed rule pack named 'my-pack'" in str(caught.value)
    assert (
        caught.value.hint
        == "a folder 'my-pack' is in the working directory; to use it, write ./my-pack"
    )
    assert refundrules.load_rule_pack("./my-pack").id == "pinduoduo"
    with pytest.raises(RulePackError, match=r"no rule pack folder '\./nowhere'"):
        refundrules.load_rule_pack("./nowhere")


def test_a_broken_entry_point_pack_is_skipped_for_profiles_and_reported(
    site: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    install_distribution(
        site,
        {"ghost": "acme_refund_packs.ghost", "maple": "acme_refund_packs.maple"},
        {"maple": MAPLE},
    )
    with caplog.at_level("WARNING", logger="refundrules"):
        profiles = installed_profiles()
    # every other platform's cases still find their profile
    assert {"pinduoduo", "maple_market"} <= set(profiles)
    assert refundrules.load_case(ROOT / "examples" / "01_awaiting_seller.yaml").platform
    assert "cannot be imported" in profile_problems()["ghost"]
    assert any("'ghost'" in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)
    assert main(["packs"]) == 4
    assert "ghost: cannot be loaded" in capsys.readouterr().out


def test_a_bundled_platform_keeps_its_profile_unless_the_other_pack_is_named(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rival = tmp_path / "rival"
    shutil.copytree(PDD_PACK, rival)
    profile = rival / "profile.yaml"
    text = profile.read_text(encoding="utf-8")
    assert "timezone: Asia/Shanghai" in text
    profile.write_text(text.replace("timezone: Asia/Shanghai", "timezone: UTC"), encoding="utf-8")
    install_distribution(site, {"acme_pdd": "acme_refund_packs.rival"}, {"rival": rival})
    assert installed_profiles()["pinduoduo"].defaults.timezone == "Asia/Shanghai"
    assert "is pack 'pinduoduo'" in profile_problems()["acme_pdd"]
    # named explicitly, the other pack checks cases against its own profile
    named = refundrules.load_rule_pack("acme_pdd")
    assert named.profile.defaults.timezone == "UTC"
    assert named.load_case(ROOT / "examples" / "01_awaiting_seller.yaml").platform == "pinduoduo"
    assert main(["packs", "--format", "json"]) == 0
    listed = {entry["name"]: entry for entry in json.loads(capsys.readouterr().out)}
    assert "is pack 'pinduoduo'" in str(listed["acme_pdd"]["note"])
    assert "note" not in listed["pinduoduo"]


def test_a_home_folder_path_is_a_path_and_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(PDD_PACK, tmp_path / "packs" / "mine")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert refundrules.load_rule_pack("~/packs/mine").id == "pinduoduo"
    with pytest.raises(RulePackError, match="no rule pack folder '~/nowhere'"):
        refundrules.load_rule_pack("~/nowhere")
