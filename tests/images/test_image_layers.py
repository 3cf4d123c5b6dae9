"""The extra-CA build secret is used by the copilot build and left in none of the image's layers."""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from pathlib import Path

import pytest

from temporal_dsql_devstack.images import DockerCli, ImageSet

pytestmark = pytest.mark.standins

LAYER_TEST_CA = Path(__file__).with_name("layer-test-ca.pem")


def _marker() -> bytes:
    """A line of the marker certificate's base64 body: unique to it, and how a PEM copy would show."""
    lines = [line for line in LAYER_TEST_CA.read_bytes().splitlines() if line and not line.startswith(b"-----")]
    return lines[len(lines) // 2]


def layers_holding(cli: DockerCli, image: str, marker: bytes, names: tuple[str, ...]) -> list[str]:
    """`docker save` the image and read every layer: the members whose content holds ``marker`` or
    whose file name is one of ``names``, as "<layer>:<path>"."""
    with tempfile.TemporaryDirectory() as directory:
        archive = Path(directory) / "image.tar"
        saved = cli.run("save", "-o", str(archive), image, timeout=600)
        assert saved.returncode == 0, saved.stderr.decode(errors="replace")
        found: list[str] = []
        with tarfile.open(archive) as outer:
            manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
            layers = manifest[0]["Layers"]
            assert layers, "an image without layers proves nothing"
            # The image's config (history, env, labels) is a place a secret could land too.
            config = outer.extractfile(manifest[0]["Config"]).read()  # type: ignore[union-attr]
            if marker in config:
                found.append(f"config:{manifest[0]['Config']}")
            for layer in layers:
                with tarfile.open(fileobj=io.BytesIO(outer.extractfile(layer).read())) as inner:  # type: ignore[union-attr]
                    for member in inner:
                        if Path(member.name).name in names:
                            found.append(f"{layer}:{member.name}")
                        elif member.isfile():
                            data = inner.extractfile(member).read()  # type: ignore[union-attr]
                            if marker in data:
                                found.append(f"{layer}:{member.name}")
        return found


def test_the_scan_finds_a_ca_that_is_in_a_layer(docker_cli: DockerCli, images: ImageSet, tmp_path: Path) -> None:
    # The control: the same marker COPYed into an image on the same base is found, by content and name.
    (tmp_path / "ca.pem").write_bytes(LAYER_TEST_CA.read_bytes())
    (tmp_path / "Dockerfile").write_text(f"FROM {images.python_base}\nCOPY ca.pem /usr/local/share/leaked.pem\n")
    tag = f"temporal-dsql-layer-control:{tmp_path.name.lower()}"
    built = docker_cli.run("build", "-t", tag, str(tmp_path), timeout=600)
    assert built.returncode == 0, built.stderr.decode(errors="replace")
    try:
        found = layers_holding(docker_cli, tag, _marker(), ("leaked.pem",))
        assert any(entry.endswith("usr/local/share/leaked.pem") for entry in found), found
    finally:
        docker_cli.run("rmi", "-f", tag, timeout=120)


def test_the_extra_ca_secret_is_in_no_layer_of_the_copilot_image(docker_cli: DockerCli, images: ImageSet) -> None:
    # The copilot build downloaded its dependencies through this machine's TLS-intercepting network,
    # which works only with the secret mounted; the marker CA travelled in the same secret.
    found = layers_holding(docker_cli, images.copilot, _marker(), ("extra_ca", "ca-bundle.pem"))
    assert found == []
