"""A layer an accelerator cannot run is an error naming every such layer, or is skipped and listed."""

from __future__ import annotations

import pytest

import accelsim
from accelsim.errors import UnsupportedLayerError


def test_unsupported_layers_are_all_named_before_anything_runs() -> None:
    with pytest.raises(UnsupportedLayerError) as err:
        accelsim.simulate("sparten", "alexnet", "pruned")
    message = str(err.value)
    for layer in ("alexnet/fc6", "alexnet/fc7", "alexnet/fc8"):
        assert layer in message
    assert "3 layer(s)" in message
    assert "--skip-unsupported" in message


def test_skipped_layers_are_listed_in_the_provenance() -> None:
    run = accelsim.simulate("sparten", "alexnet", "pruned", skip_unsupported=True)
    assert list(run.layers["layer"]) == ["conv1", "conv2", "conv3", "conv4", "conv5"]
    assert sorted(run.provenance["skipped_layers"]) == ["fc6", "fc7", "fc8"]
    assert all("fully connected" in why for why in run.provenance["skipped_layers"].values())
